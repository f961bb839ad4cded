package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kwoksim/kwoksim/workloads/manifest"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"

	"github.com/kwoksim/kwoksim/workloads/input"
)

// traceReader yields one trace file's events in order; next returns io.EOF at the end.
type traceReader interface {
	next() (*Event, error)
	Close() error
}

// openTrace opens a trace file: JSON Lines when it ends in .jsonl, else a YAML (or JSON)
// Trace document. Events come out checked, including that at never decreases. maxBytes
// bounds one JSON Lines line, or a whole YAML trace (0: DefaultMaxDocumentBytes). A trace is
// opened twice, checked before the run and replayed during it, so it must be a file: the
// zero input.Reader refuses standard input.
func openTrace(path string, maxBytes int) (traceReader, error) {
	maxBytes = manifest.LoadOptions{MaxDocumentBytes: maxBytes}.DocumentLimit()
	if isJSONL(path) {
		f, err := new(input.Reader).Open(path)
		if err != nil {
			return nil, err
		}
		return &ordered{r: newJSONLReader(path, f, maxBytes)}, nil
	}
	r, err := readYAMLTrace(path, maxBytes)
	if err != nil {
		return nil, err
	}
	return &ordered{r: r}, nil
}

func isJSONL(path string) bool { return strings.EqualFold(filepath.Ext(path), ".jsonl") }

// ordered rejects an event whose at is before the previous event's.
type ordered struct {
	r    traceReader
	last *Event
}

func (o *ordered) next() (*Event, error) {
	ev, err := o.r.next()
	if err != nil {
		return nil, err
	}
	if o.last != nil && ev.At < o.last.At {
		return nil, &manifest.LoadError{File: ev.Source.File, Line: ev.Source.Line, Msg: fmt.Sprintf(
			"at %v is before the previous event's %v (line %d); events must be in time order", ev.At, o.last.At, o.last.Source.Line)}
	}
	o.last = ev
	return ev, nil
}

func (o *ordered) Close() error { return o.r.Close() }

// jsonlReader streams a JSON Lines trace: memory holds one line at a time, of at most max
// bytes (see input.Lines).
type jsonlReader struct {
	file  string
	f     io.Closer // nil: nothing to close
	lines *input.Lines
}

func newJSONLReader(file string, r io.Reader, max int) *jsonlReader {
	j := &jsonlReader{file: file, lines: input.NewLines(r, file, max)}
	if c, ok := r.(io.Closer); ok {
		j.f = c
	}
	return j
}

func (j *jsonlReader) next() (*Event, error) {
	for {
		line, err := j.lines.Next()
		if err != nil {
			return nil, err // io.EOF, or an *input.Error (a *manifest.LoadError)
		}
		text := bytes.TrimSpace(line.Data)
		if len(text) == 0 {
			continue // blank lines separate nothing, but are harmless
		}
		if !json.Valid(text) {
			return nil, &manifest.LoadError{File: j.file, Line: line.Number, Msg: "malformed line: " + jsonSyntaxError(text)}
		}
		return decodeEvent(manifest.Source{File: j.file, Line: line.Number}, text)
	}
}

func (j *jsonlReader) Close() error {
	if j.f == nil {
		return nil
	}
	return j.f.Close()
}

// jsonSyntaxError describes why a line is not JSON, with the column.
func jsonSyntaxError(text []byte) string {
	var v any
	err := json.Unmarshal(text, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("column %d: %v", se.Offset, se)
	}
	if err != nil {
		return err.Error()
	}
	return "not JSON"
}

// yamlTrace holds a YAML trace's events: YAML traces are written by hand and short, so the
// whole document is read at once; long traces belong in JSON Lines.
type yamlTrace struct {
	file   string
	events []json.RawMessage
	lines  []int
	i      int
}

func readYAMLTrace(path string, maxBytes int) (*yamlTrace, error) {
	// Reads one byte past the limit: enough to know the file is over it, without reading it all.
	data, err := new(input.Reader).ReadFile(path, maxBytes)
	if errors.Is(err, input.ErrTooLarge) {
		size := maxBytes + 1
		if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
			size = int(info.Size())
		}
		return nil, &manifest.LoadError{File: path, Line: 1, Msg: input.TooLarge("the YAML trace (one document)", size, maxBytes) +
			"; a long trace belongs in JSON Lines (.jsonl), which is streamed", Err: err}
	}
	if err != nil {
		return nil, err
	}
	return parseYAMLTrace(path, data)
}

// utf8BOM is dropped from the start of a YAML trace read whole (input.Documents and
// input.Lines drop it from streams): editors on Windows add it and it would otherwise stick
// to the first key.
var utf8BOM = []byte("\ufeff")

// parseYAMLTrace decodes a YAML trace's contents; path names it in errors.
func parseYAMLTrace(path string, data []byte) (*yamlTrace, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	fail := func(line int, format string, args ...any) error {
		return &manifest.LoadError{File: path, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	// The values are converted as manifests are (sigs.k8s.io/yaml, strictly); the node tree
	// only supplies each event's line.
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		line, msg := manifest.YAMLError(err, 1, data)
		return nil, fail(line, "%s", msg)
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(data, &doc); err != nil {
		return nil, fail(1, "%v", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(j, &top); err != nil {
		return nil, fail(1, "expected a Trace: a mapping with apiVersion %s, kind %s and events", TraceAPIVersion, TraceKind)
	}
	for k := range top {
		switch k {
		case "apiVersion", "kind", "metadata", "events":
		default:
			return nil, fail(keyLine(&doc, k), "unknown field %q in a Trace; expected apiVersion, kind, metadata and events", k)
		}
	}
	var apiVersion, kind string
	_ = json.Unmarshal(top["apiVersion"], &apiVersion)
	_ = json.Unmarshal(top["kind"], &kind)
	if apiVersion != TraceAPIVersion || kind != TraceKind {
		return nil, fail(1, "expected apiVersion %s and kind %s, got %q and %q (a JSON Lines trace must end in .jsonl)",
			TraceAPIVersion, TraceKind, apiVersion, kind)
	}
	t := &yamlTrace{file: path}
	if raw, ok := top["events"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &t.events); err != nil {
			return nil, fail(keyLine(&doc, "events"), "events must be a list")
		}
	}
	seq := valueNode(&doc, "events")
	for i := range t.events {
		line := keyLine(&doc, "events")
		if seq != nil && i < len(seq.Content) {
			line = seq.Content[i].Line
		}
		t.lines = append(t.lines, line)
	}
	return t, nil
}

func (t *yamlTrace) next() (*Event, error) {
	if t.i >= len(t.events) {
		return nil, io.EOF
	}
	i := t.i
	t.i++
	return decodeEvent(manifest.Source{File: t.file, Line: t.lines[i]}, t.events[i])
}

func (t *yamlTrace) Close() error { return nil }

// valueNode returns the value of a top-level key of a YAML document, or nil.
func valueNode(doc *yamlv3.Node, key string) *yamlv3.Node {
	if doc.Kind != yamlv3.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	m := doc.Content[0]
	if m.Kind != yamlv3.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// keyLine is the line of a top-level key, or 1.
func keyLine(doc *yamlv3.Node, key string) int {
	if doc.Kind == yamlv3.DocumentNode && len(doc.Content) > 0 && doc.Content[0].Kind == yamlv3.MappingNode {
		m := doc.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i].Line
			}
		}
	}
	return 1
}

// Summary describes a checked trace file.
type Summary struct {
	Events int
	Last   time.Duration
}

// Check reads a whole trace file and reports its first problem, so that a run does not
// start on a trace it cannot finish. JSON Lines are streamed here too.
// maxBytes bounds a line or a YAML trace as in openTrace.
func Check(path string, maxBytes int) (Summary, error) {
	r, err := openTrace(path, maxBytes)
	if err != nil {
		return Summary{}, err
	}
	defer r.Close()
	return checkEvents(r)
}

// checkEvents reads every event of r.
func checkEvents(r traceReader) (Summary, error) {
	var s Summary
	for {
		ev, err := r.next()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return s, err
		}
		s.Events++
		s.Last = ev.At
	}
}

// ReadFile reads a whole trace file (YAML, or JSON Lines when it ends in .jsonl) and returns
// its events in order, checked as a run checks them. It is for tools that carry the events out
// elsewhere — the fidelity recorder replays them on a real cluster — so that both sides read
// the same events the same way. A long JSON Lines trace is held in memory whole here.
func ReadFile(path string) ([]*Event, error) {
	r, err := openTrace(path, 0)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []*Event
	for {
		ev, err := r.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
}
