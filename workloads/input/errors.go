package input

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// DefaultMaxDocumentBytes is the default bound on one document (a manifest, a stage, a YAML
// trace) and one JSON Lines line: generous (the largest real objects are a few MiB), far
// below what would exhaust memory once decoded.
const DefaultMaxDocumentBytes = 16 << 20

// MaxDocumentBytesFlag is the command-line flag that raises the bound; limit errors name it.
const MaxDocumentBytesFlag = "--max-document-bytes"

// ErrTooLarge is wrapped by every error about a document or line over the limit.
var ErrTooLarge = errors.New("over the size limit")

// Error is a problem with one input path, or with a place in it.
type Error struct {
	File string // path as given, joined with its directory, or StdinName
	Line int    // 1-based line in the file, 0 when the problem is with the file as a whole
	Doc  int    // 1-based document index, 0 when the problem is not inside a document
	Msg  string
	// Err is the underlying error, if any, so that callers can still test for e.g.
	// fs.ErrNotExist or ErrTooLarge with errors.Is.
	Err error
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// BadInput marks the error as bad input (kwoksim exits 2).
func (*Error) BadInput() {}

// TooLarge is the message for a document or line over the limit: "document 2 is 2169 bytes,
// more than the limit of 1000 bytes (raise it with --max-document-bytes)".
func TooLarge(what string, size, limit int) string {
	return fmt.Sprintf("%s is %d bytes, more than the limit of %d bytes (raise it with %s)", what, size, limit, MaxDocumentBytesFlag)
}

// tooLargeCut is TooLarge for one whose end was not read: size is what was read of it.
func tooLargeCut(what string, size, limit int) string {
	return fmt.Sprintf("%s is at least %d bytes, more than the limit of %d bytes (raise it with %s)", what, size, limit, MaxDocumentBytesFlag)
}

// pathError reports an os error against the path. The *fs.PathError text already contains
// the path, so only its cause goes in Msg, to avoid saying the path twice. A path that is a
// symbolic link to nothing says so: the link exists, what it points to does not.
func pathError(path string, err error) *Error {
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	if errors.Is(err, fs.ErrNotExist) {
		if target, lerr := os.Readlink(path); lerr == nil {
			msg = fmt.Sprintf("symbolic link to %s, which does not exist", target)
		}
	}
	return &Error{File: path, Msg: msg, Err: err}
}
