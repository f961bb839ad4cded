package openb

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
)

// table reads a CSV file whose first line names its columns. Columns are found by name, so
// their order does not matter and extra columns are ignored, as the openb files differ in
// which columns they carry.
type table struct {
	file   string
	r      *csv.Reader
	index  map[string]int // column name → field index
	fields int            // fields per line, from the header
	record []string       // the current row, reused between rows
	line   int            // 1-based line of the current row
}

// utf8BOM is dropped from the start of a file: spreadsheet exports add it, and it would
// otherwise stick to the first column's name.
var utf8BOM = []byte("\ufeff")

// openTable reads the header and checks that it names every column in columns.
func openTable(r io.Reader, file string, columns []string) (*table, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true // one allocation per file rather than per row
	// FieldsPerRecord stays 0: the header sets the count every other line must have.
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: file, Msg: "empty file; expected a header line naming the columns " + strings.Join(columns, ",")}
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	t := &table{file: file, r: cr, index: make(map[string]int, len(header)), fields: len(header)}
	for i, name := range header {
		name = strings.TrimSpace(name)
		if _, dup := t.index[name]; dup && name != "" {
			return nil, &Error{File: file, Line: 1, Msg: fmt.Sprintf("column %q appears twice in the header", name)}
		}
		t.index[name] = i
	}
	var missing []string
	for _, c := range columns {
		if _, ok := t.index[c]; !ok {
			missing = append(missing, strconv.Quote(c))
		}
	}
	if len(missing) > 0 {
		return nil, &Error{File: file, Line: 1, Msg: fmt.Sprintf("missing column %s in the header; expected the columns %s",
			strings.Join(missing, ", "), strings.Join(columns, ","))}
	}
	return t, nil
}

// rows calls row for each line after the header, with the table positioned on it, and
// reports its error. A line with the wrong number of fields is reported and skipped. A CSV
// syntax error (a stray quote) ends the file: the lines after it cannot be trusted to be
// where they seem.
func (t *table) rows(errs *errorList, row func() error) {
	for {
		rec, err := t.r.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				errs.add(&Error{File: t.file, Line: pe.StartLine,
					Msg: fmt.Sprintf("expected %d fields, as in the header, got %d", t.fields, len(rec))})
				continue
			}
			errs.add(csvError(t.file, err))
			return
		}
		t.record = rec
		t.line, _ = t.r.FieldPos(0)
		if err := row(); err != nil {
			errs.add(err)
		}
	}
}

func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		// pe.Column counts bytes, not CSV columns, so it is called a character here lest it
		// be read as a field number. A quoted field left open runs on to later lines; the
		// line it starts on is where to look.
		msg := fmt.Sprintf("character %d: %v", pe.Column, pe.Err)
		if pe.Line != pe.StartLine {
			msg = fmt.Sprintf("%v (a quoted field opened on this line runs on to line %d)", pe.Err, pe.Line)
		}
		return &Error{File: file, Line: pe.StartLine, Msg: msg, Err: err}
	}
	return &Error{File: file, Msg: err.Error(), Err: err}
}

// field is the current row's value in column col, which openTable checked exists.
func (t *table) field(col string) string { return t.record[t.index[col]] }

func (t *table) errorf(col, format string, args ...any) error {
	return &Error{File: t.file, Line: t.line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// uint reads a non-negative decimal integer no larger than max. The bounds keep every value
// derived from it (bytes of memory, nanoseconds of time) inside an int64.
func (t *table) uint(col string, max int64) (int64, error) {
	s := t.field(col)
	v, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err == nil && v >= 0 && v <= max:
		return v, nil
	case (errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(s, "-")) || (err == nil && v > max):
		return 0, t.errorf(col, "expected a non-negative integer no larger than %d, got %q", max, s)
	}
	return 0, t.errorf(col, "expected a non-negative integer, got %q", s)
}

// name reads an object name, which Kubernetes requires to be a DNS subdomain for both Nodes
// and Pods; checking it here names the CSV line instead of failing later inside a run.
func (t *table) name(col, what string) (string, error) {
	s := t.field(col)
	if s == "" {
		return "", t.errorf(col, "expected a %s name, got an empty field", what)
	}
	if msgs := content.IsDNS1123Subdomain(s); len(msgs) > 0 {
		return "", t.errorf(col, "expected a %s name, got %q: %s", what, s, strings.Join(msgs, "; "))
	}
	return s, nil
}

// labelValue reads an optional value that becomes a label value or a node selector value.
func (t *table) labelValue(col string) (string, error) {
	s := t.field(col)
	if err := checkLabelValue(s); err != "" {
		return "", t.errorf(col, "expected a label value, got %q: %s", s, err)
	}
	return s, nil
}

func checkLabelValue(s string) string {
	return strings.Join(content.IsLabelValue(s), "; ")
}
