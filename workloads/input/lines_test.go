package input

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func readLines(t *testing.T, text string, max int) []string {
	t.Helper()
	l := NewLines(strings.NewReader(text), "t.jsonl", max)
	var got []string
	for range 1000 {
		line, err := l.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			got = append(got, "error: "+err.Error())
			continue
		}
		got = append(got, fmt.Sprintf("%d %q", line.Number, line.Data))
	}
	t.Fatal("Next never returned io.EOF")
	return nil
}

func TestLines(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		max  int
		want []string
	}{
		{"empty", "", 0, nil},
		{"lines", "{}\n\n{}\r\n", 0, []string{`1 "{}\n"`, `2 "\n"`, `3 "{}\r\n"`}},
		{"no final newline", "{}\n{}", 0, []string{`1 "{}\n"`, `2 "{}"`}},
		{"byte order mark", "\ufeff{}\n", 0, []string{`1 "{}\n"`}},
		// The limit excludes the newline; a line over it ends the reading.
		{"at the limit", "1234\r\n", 4, []string{`1 "1234\r\n"`}},
		{"over the limit", "1\n12345\n1\n", 4,
			[]string{`1 "1\n"`, "error: t.jsonl:2: the line is 5 bytes, more than the limit of 4 bytes (raise it with --max-document-bytes)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readLines(t, tc.text, tc.max)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestLinesEndless reads a line that never ends: it is refused after at most the limit and a
// few buffers.
func TestLinesEndless(t *testing.T) {
	const max = 1 << 20
	for _, pattern := range []string{"a", "{\"a\": 1}\n"} {
		t.Run(fmt.Sprintf("%q", pattern), func(t *testing.T) {
			r := &endless{pattern: pattern}
			l := NewLines(r, "endless.jsonl", max)
			var err error
			for n := 0; err == nil && n < 10; n++ {
				_, err = l.Next()
			}
			if pattern == "a" && (!errors.Is(err, ErrTooLarge) || !strings.HasPrefix(err.Error(), "endless.jsonl:1: the line is at least ")) {
				t.Errorf("error %v, want line 1 refused", err)
			}
			if bound := max + 3*bufSize; r.read > bound {
				t.Errorf("read %d bytes, more than the limit and three buffers (%d)", r.read, bound)
			}
		})
	}
}
