package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// bufSize is the read buffer, and how far past the limit a document or line is read before
// it is refused: within it, its exact size is known and reported.
const bufSize = 64 << 10

// utf8BOM is dropped from the start of a stream: editors on Windows add it and it would
// otherwise stick to the first key.
var utf8BOM = []byte("\ufeff")

// Document is one YAML document of a stream.
type Document struct {
	Index int    // 1-based, counted as a reader counts them (see Documents)
	Line  int    // 1-based line of the stream where the document starts
	Data  []byte // the document's text, separator excluded; valid until the next call to Next
}

// Documents cuts a stream at its "---" lines, holding one document at a time.
//
// The rules are kubectl's, with exact lines. A separator is "---" at the start of a line,
// followed only by whitespace or a comment; "----" or "---x" is ordinary text, and other
// content after "--- " is an error (start the document on the next line). As in YAML itself,
// text before the first separator is a document only if it has content (a header comment
// is not one), while every separator opens a document, possibly an empty one: document
// numbers are the ones a reader counts.
//
// It does not use apimachinery's YAMLReader (k8s.io/apimachinery/pkg/util/yaml): that
// reader buffers a whole line with no bound (an endless stream without a newline grows
// without limit), merges consecutive separators and does not say which lines it consumed,
// and error lines must be exact. Wrapping its input in a byte budget would bound it but
// still not say where a document starts.
type Documents struct {
	name   string
	r      *bufio.Reader
	max    int
	window int // max plus one buffer: how much of a document is held before refusing it

	started  bool // the BOM was looked for
	done     bool
	pending  error  // returned by the next call, after the document it follows
	buf      []byte // the current document, then the line being read
	reset    bool   // buf holds the document returned last; start afresh
	explicit bool   // the current document was opened by a separator
	start    int    // line where the current document starts
	line     int    // number of the next line to read
	index    int    // documents returned so far (or refused for their size)
}

// NewDocuments reads the documents of r, named name in errors; max bounds one document
// (0: DefaultMaxDocumentBytes).
func NewDocuments(r io.Reader, name string, max int) *Documents {
	max = limit(max)
	return &Documents{name: name, r: bufio.NewReaderSize(r, bufSize), max: max, window: max + bufSize, start: 1, line: 1}
}

// Next returns the next document, or io.EOF after the last.
//
// A document over the limit is an *Error wrapping ErrTooLarge, at the line where it starts.
// When it ended within one buffer past the limit, the message gives its size and Next goes
// on with the next document; otherwise it was refused without reading it whole (the
// message says "at least"), and reading stops. Content after a separator, or a failure to
// read, is an *Error too, after which reading stops. Once stopped, Next returns io.EOF.
func (d *Documents) Next() (Document, error) {
	if !d.started {
		d.started = true
		if b, err := d.r.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
			_, _ = d.r.Discard(len(utf8BOM))
		}
	}
	if d.reset {
		d.buf, d.reset = d.buf[:0], false
	}
	if d.pending != nil {
		err := d.pending
		d.pending = nil
		return Document{}, err
	}
	for !d.done {
		lineStart := len(d.buf)
		eof, err := d.readLine()
		if err != nil {
			d.done = true
			return Document{}, err
		}
		if lineStart < len(d.buf) {
			if sep, rest := separator(d.buf[lineStart:]); sep {
				doc, ok := d.document(d.buf[:lineStart])
				sepLine := d.line
				d.line++
				if rest != "" {
					// The document it ends comes first, then the error, and reading stops.
					d.done = true
					d.pending = &Error{File: d.name, Line: sepLine, Doc: d.index + 1,
						Msg: fmt.Sprintf("content %q after the document separator \"---\" is not supported; start the document on the next line", rest)}
				}
				d.explicit, d.start = true, sepLine+1
				if ok {
					d.buf = d.buf[:lineStart] // the separator is in no document
					d.reset = true
					return d.checked(doc)
				}
				d.buf = d.buf[:0]
				if d.pending != nil {
					return d.Next()
				}
				continue
			}
			d.line++
		}
		if eof {
			d.done = true
			if doc, ok := d.document(d.buf); ok {
				return d.checked(doc)
			}
		}
	}
	return Document{}, io.EOF
}

// readLine appends the next line to buf, newline included, and reports whether the stream
// ended. It refuses the current document as soon as buf holds more than the window.
func (d *Documents) readLine() (eof bool, err error) {
	for {
		chunk, err := d.r.ReadSlice('\n')
		d.buf = append(d.buf, chunk...)
		if len(d.buf) > d.window {
			return false, &Error{File: d.name, Line: d.start, Doc: d.index + 1,
				Msg: tooLargeCut(fmt.Sprintf("document %d", d.index+1), len(d.buf), d.max), Err: ErrTooLarge}
		}
		switch {
		case err == nil:
			return false, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return true, nil
		default:
			return false, readError(d.name, err)
		}
	}
}

// document numbers the text of a document that ends here, unless it is not one: text before
// the first separator with nothing but comments and whitespace.
func (d *Documents) document(text []byte) (Document, bool) {
	if !d.explicit && blank(text) {
		return Document{}, false
	}
	d.index++
	return Document{Index: d.index, Line: d.start, Data: text}, true
}

// checked refuses a whole document over the limit; reading goes on after it.
func (d *Documents) checked(doc Document) (Document, error) {
	if len(doc.Data) > d.max {
		return Document{}, &Error{File: d.name, Line: doc.Line, Doc: doc.Index,
			Msg: TooLarge(fmt.Sprintf("document %d", doc.Index), len(doc.Data), d.max), Err: ErrTooLarge}
	}
	return doc, nil
}

// separator reports whether a line is a document separator and returns anything other than
// a comment that follows the "---" on it.
func separator(line []byte) (bool, string) {
	rest, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte("---"))
	if !ok {
		return false, ""
	}
	// "----" or "---x" is an ordinary scalar, not a separator.
	if len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t' {
		return false, ""
	}
	rest = bytes.TrimSpace(rest)
	if len(rest) == 0 || rest[0] == '#' {
		return true, ""
	}
	return true, string(rest)
}

// blank reports whether text holds only whitespace and comments.
func blank(text []byte) bool {
	for l := range bytes.Lines(text) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' {
			return false
		}
	}
	return true
}
