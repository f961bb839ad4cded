package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wholeSplit is the splitter kwoksim had before Documents, which cut a file read whole: the
// reference Documents must agree with. Its error is the text of the first problem.
func wholeSplit(data []byte) ([]Document, string) {
	data = bytes.TrimPrefix(data, utf8BOM)
	var docs []Document
	start, startLine := 0, 1
	explicit := false
	index := 0
	flush := func(end int) {
		chunk := data[start:end]
		if explicit || !blank(chunk) {
			index++
			docs = append(docs, Document{Index: index, Line: startLine, Data: chunk})
		}
	}
	line := 1
	for off := 0; off < len(data); line++ {
		next := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		if sep, rest := separator(data[off:next]); sep {
			flush(off)
			if rest != "" {
				return docs, fmt.Sprintf("%d %d %q", line, index+1, rest)
			}
			start, startLine, explicit = next, line+1, true
		}
		off = next
	}
	flush(len(data))
	return docs, ""
}

// FuzzDocuments checks that Documents, reading in small pieces, cuts every stream as the
// whole-file splitter did: the same documents, numbers, lines and error.
func FuzzDocuments(f *testing.F) {
	for _, s := range []string{"", "a: 1\n---\nb: 2", "# h\n---\n---\n\n--- # c\nx\n--- y\n", "\ufeff----\n---x\n- ---\r\n---\r\n"} {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob("../../testdata/load/*/*.yaml")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantErr := wholeSplit(data)
		d := NewDocuments(io.LimitReader(&pieces{data: data}, int64(len(data))), "f", len(data)+1)
		var got []string
		gotErr := ""
		for {
			doc, err := d.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			var e *Error
			if !errors.As(err, &e) && err != nil {
				t.Fatalf("error %T: %v", err, err)
			}
			if err != nil {
				rest := e.Msg[len("content "):strings.Index(e.Msg, " after the document separator")]
				gotErr = fmt.Sprintf("%d %d %s", e.Line, e.Doc, rest)
				continue
			}
			got = append(got, fmt.Sprintf("%d@%d %q", doc.Index, doc.Line, doc.Data))
		}
		var wantDocs []string
		for _, doc := range want {
			wantDocs = append(wantDocs, fmt.Sprintf("%d@%d %q", doc.Index, doc.Line, doc.Data))
		}
		if strings.Join(got, "\n") != strings.Join(wantDocs, "\n") || gotErr != wantErr {
			t.Errorf("documents:\n%s\nerror %s\nwant:\n%s\nerror %s", strings.Join(got, "\n"), gotErr, strings.Join(wantDocs, "\n"), wantErr)
		}
	})
}

// pieces hands out its data three bytes at a time, so that lines span reads.
type pieces struct{ data []byte }

func (p *pieces) Read(b []byte) (int, error) {
	if len(p.data) == 0 {
		return 0, io.EOF
	}
	n := copy(b[:min(len(b), 3)], p.data)
	p.data = p.data[n:]
	return n, nil
}
