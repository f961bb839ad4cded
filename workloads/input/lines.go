package input

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Line is one line of a JSON Lines stream.
type Line struct {
	Number int    // 1-based
	Data   []byte // the line, newline included; valid until the next call to Next
}

// Lines reads a stream line by line, holding one line at a time.
type Lines struct {
	name   string
	r      *bufio.Reader
	max    int
	window int

	started bool
	done    bool
	buf     []byte
	line    int // lines returned so far
}

// NewLines reads the lines of r, named name in errors; max bounds one line, newline
// excluded (0: DefaultMaxDocumentBytes).
func NewLines(r io.Reader, name string, max int) *Lines {
	max = limit(max)
	return &Lines{name: name, r: bufio.NewReaderSize(r, bufSize), max: max, window: max + bufSize}
}

// Next returns the next line, or io.EOF after the last. A UTF-8 byte order mark at the
// start of the stream is dropped.
//
// A line over the limit is an *Error wrapping ErrTooLarge, with its size when it ended within
// one buffer past the limit, else refused without reading it whole ("at least"); a failure
// to read is an *Error too. After either, Next returns io.EOF.
func (l *Lines) Next() (Line, error) {
	if l.done {
		return Line{}, io.EOF
	}
	if !l.started {
		l.started = true
		if b, err := l.r.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
			_, _ = l.r.Discard(len(utf8BOM))
		}
	}
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		l.buf = append(l.buf, chunk...)
		if n := len(bytes.TrimRight(l.buf, "\r\n")); n > l.window {
			l.done = true
			return Line{}, &Error{File: l.name, Line: l.line + 1, Msg: tooLargeCut("the line", n, l.max), Err: ErrTooLarge}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil && !errors.Is(err, io.EOF):
			l.done = true
			e := readError(l.name, err)
			e.Line = l.line + 1
			return Line{}, e
		case len(l.buf) == 0: // the end of the stream
			l.done = true
			return Line{}, io.EOF
		}
		if err != nil {
			l.done = true // a last line without a newline
		}
		l.line++
		if n := len(bytes.TrimRight(l.buf, "\r\n")); n > l.max {
			l.done = true
			return Line{}, &Error{File: l.name, Line: l.line, Msg: TooLarge("the line", n, l.max), Err: ErrTooLarge}
		}
		return Line{Number: l.line, Data: l.buf}, nil
	}
}
