package analysis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// ReadReport reads a report written by `kwoksim run -o json` or `--report`. Every error names
// the file; one that is not JSON names the line too.
func ReadReport(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // *PathError: names the file
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return nil, fmt.Errorf("%s:%d: not JSON: %v", path, lineOf(data, syntax.Offset), err)
		case errors.As(err, &typ):
			return nil, fmt.Errorf("%s:%d: not a kwoksim report: field %s is a JSON %s, want %s",
				path, lineOf(data, typ.Offset), typ.Field, typ.Value, typ.Type)
		}
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if r.APIVersion != APIVersion || r.Kind != ReportKind {
		return nil, fmt.Errorf("%s: not a kwoksim report: apiVersion %q, kind %q; want %s %s",
			path, r.APIVersion, r.Kind, APIVersion, ReportKind)
	}
	return &r, nil
}

// lineOf is the 1-based line of a byte offset.
func lineOf(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return bytes.Count(data[:offset], []byte("\n")) + 1
}
