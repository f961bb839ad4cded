package input

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// doc is what a test expects of one document, or of an error in its place.
type doc struct {
	index, line int
	data        string
}

// readAll returns every document of text, and the errors in their places as "error: …".
func readAll(t *testing.T, text string, max int) []string {
	t.Helper()
	d := NewDocuments(strings.NewReader(text), "f.yaml", max)
	var got []string
	for range 1000 {
		doc, err := d.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			got = append(got, "error: "+err.Error())
			continue
		}
		got = append(got, fmt.Sprintf("%d@%d %q", doc.Index, doc.Line, doc.Data))
	}
	t.Fatal("Next never returned io.EOF")
	return nil
}

func TestDocuments(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []string
	}{
		{"empty", "", nil},
		{"one document", "a: 1\nb: 2\n", []string{`1@1 "a: 1\nb: 2\n"`}},
		{"no final newline", "a: 1\nb: 2", []string{`1@1 "a: 1\nb: 2"`}},
		{"two documents", "a: 1\n---\nb: 2\n", []string{`1@1 "a: 1\n"`, `2@3 "b: 2\n"`}},
		// Text before the first separator is a document only if it has content.
		{"leading separator", "---\na: 1\n", []string{`1@2 "a: 1\n"`}},
		{"header comment", "# header\n\n---\na: 1\n", []string{`1@4 "a: 1\n"`}},
		{"content before the first separator", "a: 1\n---\n", []string{`1@1 "a: 1\n"`, `2@3 ""`}},
		// Every separator opens a document, possibly empty: the numbers a reader counts.
		{"consecutive separators", "a: 1\n---\n---\n\n---\nb: 2\n",
			[]string{`1@1 "a: 1\n"`, `2@3 ""`, `3@4 "\n"`, `4@6 "b: 2\n"`}},
		{"final separator without newline", "a: 1\n---", []string{`1@1 "a: 1\n"`, `2@3 ""`}},
		{"only comments and separators", "# x\n---\n# y\n---\n", []string{`1@3 "# y\n"`, `2@5 ""`}},
		{"CRLF", "a: 1\r\n---\r\nb: 2\r\n", []string{`1@1 "a: 1\r\n"`, `2@3 "b: 2\r\n"`}},
		{"separator with a comment", "a: 1\n--- # next\nb: 2\n", []string{`1@1 "a: 1\n"`, `2@3 "b: 2\n"`}},
		{"separator with trailing blanks", "a: 1\n---  \t\nb: 2\n", []string{`1@1 "a: 1\n"`, `2@3 "b: 2\n"`}},
		{"dashes that are not a separator", "----\n---x\n- ---\n", []string{`1@1 "----\n---x\n- ---\n"`}},
		{"byte order mark", "\ufeffa: 1\n", []string{`1@1 "a: 1\n"`}},
		{"byte order mark not at the start", "a: 1\n\ufeffb: 2\n", []string{`1@1 "a: 1\n\ufeffb: 2\n"`}},
		// Content after a separator ends the reading; the error names the document it opens.
		{"content after the first separator", "--- c: 3\nd: 4\n",
			[]string{`error: f.yaml:1: content "c: 3" after the document separator "---" is not supported; start the document on the next line`}},
		{"content after a separator", "a: 1\n---\nb: 2\n--- c: 3\nd: 4\n",
			[]string{`1@1 "a: 1\n"`, `2@3 "b: 2\n"`,
				`error: f.yaml:4: content "c: 3" after the document separator "---" is not supported; start the document on the next line`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, tc.text, 0)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("documents:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestDocumentsErrorPlace(t *testing.T) {
	d := NewDocuments(strings.NewReader("a: 1\n---\n--- x\n"), "f.yaml", 0)
	for range 2 { // a: 1, and the empty document between the separators
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
	}
	_, err := d.Next()
	var e *Error
	if !errors.As(err, &e) || e.File != "f.yaml" || e.Line != 3 || e.Doc != 3 {
		t.Fatalf("error %#v, want f.yaml line 3 document 3", err)
	}
	if _, err := d.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the error: %v, want io.EOF", err)
	}
}

func TestDocumentsLimit(t *testing.T) {
	big := strings.Repeat("x", 30)
	t.Run("a whole document over the limit is refused with its size, and reading goes on", func(t *testing.T) {
		got := readAll(t, "a: 1\n---\nb: "+big+"\n---\nc: 2\n", 20)
		want := []string{`1@1 "a: 1\n"`,
			"error: f.yaml:3: document 2 is 34 bytes, more than the limit of 20 bytes (raise it with --max-document-bytes)",
			`3@5 "c: 2\n"`}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("documents:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("at the limit", func(t *testing.T) {
		got := readAll(t, "b: "+big[:16]+"\n", 20) // 20 bytes, newline included
		if len(got) != 1 || strings.HasPrefix(got[0], "error") {
			t.Errorf("documents %q, want one", got)
		}
	})
	t.Run("a document past one buffer over the limit is refused unread, and reading stops", func(t *testing.T) {
		text := "a: 1\n---\nb: " + strings.Repeat("x", 3*bufSize) + "\n---\nc: 2\n"
		got := readAll(t, text, 20)
		if len(got) != 2 || !strings.HasPrefix(got[1], "error: f.yaml:3: document 2 is at least ") ||
			!strings.HasSuffix(got[1], " bytes, more than the limit of 20 bytes (raise it with --max-document-bytes)") {
			t.Errorf("documents %q, want document 1, then document 2 refused at line 3", got)
		}
		d := NewDocuments(strings.NewReader(text), "f.yaml", 20)
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
		var e *Error
		if _, err := d.Next(); !errors.As(err, &e) || !errors.Is(err, ErrTooLarge) || e.Doc != 2 || e.Line != 3 {
			t.Errorf("error %#v, want ErrTooLarge in document 2 at line 3", err)
		}
	})
}

// endless returns its pattern forever, counting what was read.
type endless struct {
	pattern string
	off     int
	read    int
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.pattern[e.off]
		e.off = (e.off + 1) % len(e.pattern)
	}
	e.read += len(p)
	return len(p), nil
}

// TestDocumentsEndless reads streams that never end: the document is refused after at most
// the limit and a few buffers, whether the stream has newlines or not.
func TestDocumentsEndless(t *testing.T) {
	const max = 1 << 20
	for _, pattern := range []string{"a", "a: b\n", "\n", "# comment\n"} {
		t.Run(fmt.Sprintf("%q", pattern), func(t *testing.T) {
			r := &endless{pattern: pattern}
			_, err := NewDocuments(r, "endless.yaml", max).Next()
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "endless.yaml:1: document 1 is at least ") {
				t.Errorf("error %v, want document 1 refused at line 1", err)
			}
			if bound := max + 3*bufSize; r.read > bound {
				t.Errorf("read %d bytes, more than the limit and three buffers (%d)", r.read, bound)
			}
		})
	}
}
