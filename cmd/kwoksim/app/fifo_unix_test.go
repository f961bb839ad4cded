//go:build unix

package app

import "syscall"

// mkfifo makes a named pipe (TestInterruptWhileReadingInputs).
func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }
