//go:build unix

package app

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts a child run in a process group of its own. Ctrl-C in a terminal
// signals the whole foreground group: without this, each child would get the terminal's SIGINT
// and then the one its parent forwards, and take the second for "quit at once", writing no
// report. In its own group, a child hears only its parent.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
