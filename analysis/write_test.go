package analysis

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A written file is readable by others, and a failed write leaves nothing, not even the
// temporary file.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "page"); return err }); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v), want -rw-r--r--", fi.Mode(), err)
	}
	failed := filepath.Join(dir, "failed.html")
	if err := WriteFileAtomic(failed, func(w io.Writer) error { return errors.New("boom") }); err == nil {
		t.Error("a failed write reported success")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want only report.html", len(entries))
	}
}
