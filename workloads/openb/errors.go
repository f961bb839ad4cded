package openb

import (
	"errors"
	"fmt"
	"strconv"
)

// Error is a problem with an input file, one of its rows or one field. Its message names the
// file, the 1-based line (the header is line 1) and the column, so that the value can be
// found in an editor: `pods.csv:17: column cpu_milli: expected a non-negative integer, got "abc"`.
type Error struct {
	File   string // path as given
	Line   int    // 1-based, 0 when the problem is with the file as a whole
	Column string // header name, "" when the problem is not with one field
	Msg    string
	Err    error // underlying error, if any, for errors.Is (e.g. fs.ErrNotExist)
}

func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	s += ": "
	if e.Column != "" {
		s += "column " + e.Column + ": "
	}
	return s + e.Msg
}

// BadInput marks the error as bad input (kwoksim exits 2).
func (*Error) BadInput() {}

func (e *Error) Unwrap() error { return e.Err }

// maxErrors bounds how many problems one import reports: enough to fix a batch of mistakes
// in one go, few enough that a file in the wrong format does not flood the terminal.
const maxErrors = 20

// errorList gathers the problems of an import, so that one run reports many of them rather
// than one per attempt.
type errorList struct {
	errs    []error
	dropped int
}

func (l *errorList) add(err error) {
	if len(l.errs) < maxErrors {
		l.errs = append(l.errs, err)
	} else {
		l.dropped++
	}
}

// err is nil, the only problem, or all of them joined one per line.
func (l *errorList) err() error {
	switch {
	case len(l.errs) == 0:
		return nil
	case len(l.errs) == 1:
		return l.errs[0]
	}
	errs := l.errs
	if l.dropped > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("... and %d more problems", l.dropped))
	}
	return errors.Join(errs...)
}
