//go:build !unix

package app

import "os/exec"

// ownProcessGroup does nothing where there are no process groups to keep apart.
func ownProcessGroup(*exec.Cmd) {}
