package input

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Stdin is the path that names standard input.
const Stdin = "-"

// StdinName names standard input in messages and in the sources of what was read from it.
const StdinName = "<stdin>"

// Name is how a path is named in messages: StdinName for Stdin, else the path as given.
func Name(path string) string {
	if path == Stdin {
		return StdinName
	}
	return path
}

// Dir says which files of a directory are inputs. A file named on its own is read whatever
// its name: the user asked for it.
type Dir struct {
	Exts []string // extensions read, with their dot; matched case-sensitively, as kubectl does
	Skip []string // names never read, e.g. kustomization.yaml
}

var (
	// Manifests are the files kubectl's -f <dir> reads.
	Manifests = Dir{Exts: []string{".yaml", ".yml", ".json"}}
	// StageFiles are the files KWOK's --config <dir> reads for stages: YAML, without the
	// kustomization that lists them.
	StageFiles = Dir{Exts: []string{".yaml", ".yml"}, Skip: []string{"kustomization.yaml", "kustomization.yml"}}
)

// Expand returns the files path stands for: the path itself when it is Stdin or not a
// directory, else the directory's regular files that d accepts, joined with the directory,
// in lexical order, not recursively, hidden files skipped. Symbolic links are followed
// everywhere, so a link to a manifest counts as the manifest; a link to nothing is an error
// naming it. A directory with no such files gives none, not an error: what that means is the
// caller's to say. Errors are *Error.
func Expand(path string, d Dir) ([]string, error) {
	if path == Stdin {
		return []string{path}, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return nil, pathError(path, err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !slices.Contains(d.Exts, filepath.Ext(name)) || slices.Contains(d.Skip, name) {
			continue
		}
		full := filepath.Join(path, name)
		// Stat rather than e.Type(), which describes the link, not what it points to.
		fi, err := os.Stat(full)
		if err != nil {
			return nil, pathError(full, err)
		}
		if fi.Mode().IsRegular() {
			files = append(files, full)
		}
	}
	return files, nil
}

// IsDir reports whether path names a directory, following symbolic links; it is false for
// Stdin and for a path that cannot be examined.
func IsDir(path string) bool {
	if path == Stdin {
		return false
	}
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

// Reader opens the files of one command: it holds standard input, which can be read once.
// Its zero value refuses Stdin. A Reader is safe for concurrent use.
type Reader struct {
	// Stdin is what the path Stdin reads; nil: Stdin is refused, so that a library caller
	// never consumes the process's standard input unawares.
	Stdin io.Reader

	mu        sync.Mutex
	stdinRead bool
}

// Open opens one file, or standard input for Stdin, for reading. Standard input can be
// opened once: it is a stream, and what one reader consumed is gone for the next (an input
// read twice, such as a trace, must be a file). Errors are *Error naming the path.
func (r *Reader) Open(path string) (io.ReadCloser, error) {
	if path != Stdin {
		f, err := os.Open(path)
		if err != nil {
			return nil, pathError(path, err)
		}
		return f, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.Stdin == nil:
		return nil, &Error{File: StdinName, Msg: "standard input (-) is not accepted here; give a file"}
	case r.stdinRead:
		return nil, &Error{File: StdinName, Msg: "standard input (-) can be read only once, and it was read already; give the other inputs as files"}
	}
	r.stdinRead = true
	return io.NopCloser(r.Stdin), nil
}

// ReadFile reads a whole file (or standard input) of at most max bytes (0:
// DefaultMaxDocumentBytes), reading no more than one byte past the limit. It is for inputs
// that are one document, such as a scheduler configuration.
func (r *Reader) ReadFile(path string, max int) ([]byte, error) {
	max = limit(max)
	f, err := r.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, readError(Name(path), err)
	}
	if len(data) > max {
		return nil, &Error{File: Name(path), Msg: tooLargeCut("the file", len(data), max), Err: ErrTooLarge}
	}
	return data, nil
}

// limit is max, or the default for 0.
func limit(max int) int {
	if max > 0 {
		return max
	}
	return DefaultMaxDocumentBytes
}

// readError is a failure while reading an open file.
func readError(name string, err error) *Error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return &Error{File: name, Msg: pe.Err.Error(), Err: err}
	}
	return &Error{File: name, Msg: fmt.Sprint(err), Err: err}
}
