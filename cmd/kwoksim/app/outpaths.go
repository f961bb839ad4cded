package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkOutputFile rejects, before anything runs, a file flag (--report, --html, --state-out)
// whose path cannot be written, so that a long simulation does not end at an unwritable path
// and lose its output: the path must not be a directory, its directory must exist, and a file
// must be creatable there (not so on a read-only mount or under /proc). The last is probed the
// way the file will be written: a temporary file is created in the directory and removed at
// once.
func checkOutputFile(flag, path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usageError{fmt.Errorf("%s %s: expected a file, found a directory", flag, path)}
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return usageError{fmt.Errorf("%s %s: directory %s does not exist", flag, path, dir)}
	}
	if err := probeWritable(dir); err != nil {
		return usageError{fmt.Errorf("%s %s: cannot write a file in %s: %w", flag, path, dir, err)}
	}
	return nil
}

// checkOutputDir rejects, before anything runs, a directory flag (--csv, --plots, --reports)
// whose directory cannot be written: it must not be a file, and it, or the nearest existing
// directory above it (it is created with its parents), must let a file be created in it.
func checkOutputDir(flag, dir string) error {
	if dir == "" {
		return nil
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return usageError{fmt.Errorf("%s %s: expected a directory, found a file", flag, dir)}
	}
	existing := dir
	for {
		st, err := os.Stat(existing)
		if err == nil {
			if !st.IsDir() {
				return usageError{fmt.Errorf("%s %s: %s is a file, not a directory", flag, dir, existing)}
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return usageError{fmt.Errorf("%s %s: %w", flag, dir, err)}
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			return usageError{fmt.Errorf("%s %s: no existing directory above it", flag, dir)}
		}
		existing = parent
	}
	if err := probeWritable(existing); err != nil {
		return usageError{fmt.Errorf("%s %s: cannot write in %s: %w", flag, dir, existing, err)}
	}
	return nil
}

// probeWritable creates a temporary file in dir and removes it.
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".kwoksim-probe-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
