package input

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tree writes files (name → content) under a new directory; a content starting with "->" makes
// a symbolic link to the rest.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestExpand(t *testing.T) {
	dir := tree(t, map[string]string{
		"b.yaml":               "b",
		"a.yml":                "a",
		"c.json":               "c",
		"Z.YAML":               "upper case is not .yaml",
		".hidden.yaml":         "hidden",
		"notes.txt":            "text",
		"kustomization.yaml":   "resources: []",
		"sub/d.yaml":           "not recursive",
		"sub.yaml/e.yaml":      "a directory named like a manifest",
		"link.yaml":            "->elsewhere/target.txt",
		"elsewhere/target.txt": "a link to a file counts as the file",
		"dirlink.yaml":         "->sub",
	})
	rel := func(files []string) []string {
		var out []string
		for _, f := range files {
			r, _ := filepath.Rel(dir, f)
			out = append(out, r)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		path string
		d    Dir
		want []string
	}{
		{"manifests", dir, Manifests, []string{"a.yml", "b.yaml", "c.json", "kustomization.yaml", "link.yaml"}},
		{"stage files", dir, StageFiles, []string{"a.yml", "b.yaml", "link.yaml"}},
		{"a file whatever its extension", filepath.Join(dir, "notes.txt"), Manifests, []string{"notes.txt"}},
		{"a hidden file named on its own", filepath.Join(dir, ".hidden.yaml"), Manifests, []string{".hidden.yaml"}},
		{"a directory through a link", filepath.Join(dir, "dirlink.yaml"), Manifests, []string{"dirlink.yaml/d.yaml"}},
		{"a directory without inputs", filepath.Join(dir, "elsewhere"), Manifests, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := Expand(tc.path, tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if got := rel(files); !slices.Equal(got, tc.want) {
				t.Errorf("Expand = %q, want %q", got, tc.want)
			}
		})
	}
	if files, err := Expand(Stdin, Manifests); err != nil || !slices.Equal(files, []string{Stdin}) {
		t.Errorf("Expand(Stdin) = %q, %v", files, err)
	}
	if !IsDir(dir) || !IsDir(filepath.Join(dir, "dirlink.yaml")) || IsDir(filepath.Join(dir, "a.yml")) || IsDir(Stdin) {
		t.Error("IsDir: wrong answer")
	}
}

func TestExpandErrors(t *testing.T) {
	dir := tree(t, map[string]string{
		"a.yaml":       "a",
		"broken.yaml":  "->missing.yaml",
		".broken.yaml": "->missing.yaml", // hidden: never looked at
		"broken.txt":   "->missing.txt",  // not an input: never looked at
	})
	_, err := Expand(dir, Manifests)
	want := filepath.Join(dir, "broken.yaml") + ": symbolic link to missing.yaml, which does not exist"
	var e *Error
	if !errors.As(err, &e) || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Expand of a directory with a dangling link: %v, want %q", err, want)
	}
	if _, err := Expand(filepath.Join(dir, "broken.yaml"), Manifests); err == nil || err.Error() != want {
		t.Errorf("Expand of a dangling link: %v, want %q", err, want)
	}
	missing := filepath.Join(dir, "missing")
	if _, err := Expand(missing, Manifests); err == nil || err.Error() != missing+": no such file or directory" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Expand of a missing path: %v", err)
	}
}

func TestReaderStdin(t *testing.T) {
	if _, err := new(Reader).Open(Stdin); err == nil || err.Error() != "<stdin>: standard input (-) is not accepted here; give a file" {
		t.Errorf("zero Reader: %v", err)
	}
	r := &Reader{Stdin: strings.NewReader("a: 1\n")}
	f, err := r.Open(Stdin)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := io.ReadAll(f); string(data) != "a: 1\n" {
		t.Errorf("read %q", data)
	}
	if _, err := r.Open(Stdin); err == nil || !strings.Contains(err.Error(), "can be read only once") {
		t.Errorf("second Open: %v", err)
	}
}

func TestReadFile(t *testing.T) {
	dir := tree(t, map[string]string{"a.yaml": "12345", "link.yaml": "->a.yaml"})
	if data, err := new(Reader).ReadFile(filepath.Join(dir, "link.yaml"), 5); err != nil || string(data) != "12345" {
		t.Errorf("ReadFile at the limit = %q, %v", data, err)
	}
	_, err := new(Reader).ReadFile(filepath.Join(dir, "a.yaml"), 4)
	if !errors.Is(err, ErrTooLarge) || !strings.HasSuffix(err.Error(), "a.yaml: the file is at least 5 bytes, more than the limit of 4 bytes (raise it with --max-document-bytes)") {
		t.Errorf("ReadFile over the limit: %v", err)
	}
	r := &endless{pattern: "a"}
	if _, err := (&Reader{Stdin: r}).ReadFile(Stdin, 100); !errors.Is(err, ErrTooLarge) || r.read > 100+bufSize {
		t.Errorf("ReadFile of an endless stream: %v after %d bytes", err, r.read)
	}
}
