package stages

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"text/template"

	"sigs.k8s.io/yaml"
)

// The render cache. A cacheable template (see tmplread.go) renders the same
// JSON for every object that agrees on what the template reads, except at the
// holes, where Env results printed through Quote land as whole JSON string
// values. So the JSON is computed once per distinct read set, with sentinels
// in the holes, and later renders splice the real values in. The layout is
// proved on the first render of each read set by rendering with two
// different sentinel sets and checking that the outputs differ exactly at
// the sentinels; where that fails the read set is marked and renders in full.
// Hole values are spliced only when they are printable ASCII, for which
// Quote, the YAML double-quoted scalar and the JSON re-encoding agree.

// maxCacheEntries bounds one template's cache; when full it starts afresh.
const maxCacheEntries = 4096

const sentinelMark = "kwoksim-hole-"

type renderCache struct {
	plan  *readPlan
	holes []hole
	base  *template.Template // the compiled template, cloned for sentinel renders

	mu      sync.Mutex
	entries map[string]*cacheEntry
	pool    sync.Pool // of *sentinelTmpl
}

// cacheEntry is the rendered JSON of one read set, cut at the holes.
type cacheEntry struct {
	splice  bool     // false: this read set does not splice; render in full
	segs    [][]byte // JSON around the hole values: segs[0] v segs[1] v …
	occ     []int    // the hole printed before segs[i+1]
	yamlLen int      // rendered YAML length with the A sentinels
	yamlOcc []int    // per hole: how often its A sentinel is in that YAML
	sentLen []int    // per hole: the length of Quote(its A sentinel)
	tree    *pnode   // the decoded JSON with its holes open; nil when the fast merge cannot take it
}

func newRenderCache(t *template.Template) *renderCache {
	r := analyseTemplate(t.Tree)
	if r == nil {
		return nil
	}
	return &renderCache{plan: planOf(r.root), holes: r.holes, base: t, entries: map[string]*cacheEntry{}}
}

func (c *renderCache) lookup(key []byte) *cacheEntry {
	c.mu.Lock()
	e := c.entries[string(key)]
	c.mu.Unlock()
	return e
}

func (c *renderCache) store(key []byte, e *cacheEntry) {
	c.mu.Lock()
	if len(c.entries) >= maxCacheEntries {
		clear(c.entries)
	}
	c.entries[string(key)] = e
	c.mu.Unlock()
}

// sentinelTmpl is a clone whose hole functions return sentinels: the k-th
// Env call of a render returns sentinelMark + prefix + k + "-".
type sentinelTmpl struct {
	t      *template.Template
	prefix byte
	calls  int
	budget loopBudget // the render's loop budget (loopbudget.go)
}

func (s *sentinelTmpl) next() string {
	v := sentinel(s.prefix, s.calls)
	s.calls++
	return v
}

func sentinel(prefix byte, k int) string {
	return sentinelMark + string(prefix) + strconv.Itoa(k) + "-"
}

func (c *renderCache) sentinelClone() (*sentinelTmpl, error) {
	if s, ok := c.pool.Get().(*sentinelTmpl); ok {
		return s, nil
	}
	t, err := c.base.Clone()
	if err != nil {
		return nil, err
	}
	s := &sentinelTmpl{t: t}
	t.Funcs(template.FuncMap{
		"Now":        func() string { return s.next() },
		"StartTime":  func() string { return s.next() },
		"NodeIP":     func() string { return s.next() },
		"NodeName":   func() string { return s.next() },
		"PodIP":      func() string { return s.next() },
		"NodeIPWith": func(string) string { return s.next() },
		"PodIPWith": func(string, bool, string, string, string) (string, error) {
			return s.next(), nil
		},
	})
	t.Funcs(budgetFuncs(func() *loopBudget { return &s.budget }))
	return s, nil
}

// renderSentinels renders obj with sentinels of the given prefix.
func (c *renderCache) renderSentinels(obj []byte, prefix byte) (yamlOut, jsonOut []byte, calls int, err error) {
	data, err := decodeTemplateData(obj)
	if err != nil {
		return nil, nil, 0, err
	}
	s, err := c.sentinelClone()
	if err != nil {
		return nil, nil, 0, err
	}
	s.prefix, s.calls, s.budget = prefix, 0, loopBudget{left: maxLoopSteps}
	w := &cappedBuffer{limit: maxRenderBytes}
	err = s.t.Execute(w, data)
	calls = s.calls
	c.pool.Put(s)
	if err != nil {
		return nil, nil, 0, err
	}
	js, err := yaml.YAMLToJSON(w.buf.Bytes())
	if err != nil {
		return nil, nil, 0, err
	}
	return w.buf.Bytes(), js, calls, nil
}

// build renders a new read set twice and cuts the output at the holes. nil
// means a sentinel render failed: the full render reports the error.
func (c *renderCache) build(obj []byte) *cacheEntry {
	yamlA, jsonA, nA, err := c.renderSentinels(obj, 'A')
	if err != nil {
		return nil
	}
	_, jsonB, nB, err := c.renderSentinels(obj, 'B')
	if err != nil {
		return nil
	}
	noSplice := &cacheEntry{}
	if nA != len(c.holes) || nB != len(c.holes) {
		return noSplice
	}
	segs, occ, ok := cutAtSentinels(jsonA, 'A', len(c.holes))
	if !ok {
		return noSplice
	}
	// The B render must be the A layout with B sentinels: then nothing but
	// the holes depends on the Env values.
	b := make([]byte, 0, len(jsonB))
	for i, seg := range segs {
		b = append(b, seg...)
		if i < len(occ) {
			b = strconv.AppendQuote(b, sentinel('B', occ[i]))
		}
	}
	if !bytes.Equal(b, jsonB) {
		return noSplice
	}
	e := &cacheEntry{splice: true, segs: segs, occ: occ, yamlLen: len(yamlA),
		yamlOcc: make([]int, len(c.holes)), sentLen: make([]int, len(c.holes))}
	for h := range c.holes {
		e.yamlOcc[h] = bytes.Count(yamlA, []byte(sentinel('A', h)))
		e.sentLen[h] = len(sentinel('A', h)) + 2
	}
	if v, err := decodeJSON(jsonA); err == nil {
		if t, ok := newPatchTree(v, len(c.holes)); ok && t.kind == pMap {
			e.tree = t
		}
	}
	return e
}

// cutAtSentinels splits js at each `"<sentinel>"` that is a whole JSON
// string value (not a key, not part of a longer string). Any other
// appearance of the mark fails the cut.
func cutAtSentinels(js []byte, prefix byte, holes int) (segs [][]byte, occ []int, ok bool) {
	last := 0
	rest := 0
	for {
		i := bytes.Index(js[rest:], []byte(sentinelMark))
		if i < 0 {
			break
		}
		i += rest
		j := i + len(sentinelMark)
		if j >= len(js) || js[j] != prefix {
			return nil, nil, false
		}
		j++
		k := j
		for k < len(js) && js[k] >= '0' && js[k] <= '9' {
			k++
		}
		h, err := strconv.Atoi(string(js[j:k]))
		if err != nil || h >= holes || string(js[j:k]) != strconv.Itoa(h) {
			return nil, nil, false
		}
		// "…<mark><prefix><h>-" then a value delimiter.
		if k+2 >= len(js) || js[k] != '-' || js[k+1] != '"' || !bytes.ContainsRune([]byte(",]}"), rune(js[k+2])) {
			return nil, nil, false
		}
		if i < 2 || js[i-1] != '"' || !bytes.ContainsRune([]byte(":[,"), rune(js[i-2])) {
			return nil, nil, false
		}
		segs = append(segs, js[last:i-1])
		occ = append(occ, h)
		last = k + 2
		rest = k + 2
	}
	segs = append(segs, js[last:])
	return segs, occ, true
}

// fill splices the hole values in, or reports that the values cannot be
// spliced. A non-empty wrap is written before the JSON, and a closing brace
// after it: the patch nested under a root, in the one allocation.
func (e *cacheEntry) fill(vals []string, wrap []byte) ([]byte, bool) {
	n := e.yamlLen
	for h, v := range vals {
		if !printableASCII(v) {
			return nil, false
		}
		// Quote's output in the YAML grows by the value's escaped length
		// less the sentinel's; bound the real YAML as the render cap does.
		if d := jsonStringLen(v) - e.sentLen[h]; d > 0 {
			n += d * e.yamlOcc[h]
		}
	}
	if n > maxRenderBytes {
		return nil, false
	}
	size := 0
	for _, s := range e.segs {
		size += len(s)
	}
	for _, h := range e.occ {
		size += jsonStringLen(vals[h])
	}
	if len(wrap) != 0 {
		size += len(wrap) + 1
	}
	out := make([]byte, 0, size)
	out = append(out, wrap...)
	for i, s := range e.segs {
		out = append(out, s...)
		if i < len(e.occ) {
			out = appendJSONString(out, vals[e.occ[i]])
		}
	}
	if len(wrap) != 0 {
		out = append(out, '}')
	}
	return out, true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// appendJSONString is encoding/json's encoding of a printable ASCII string
// (HTML characters escaped as json.Marshal does).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	if jsonStringLen(s) == len(s)+2 {
		// Nothing to escape (the common case: times, addresses, names).
		b = append(b, s...)
		return append(b, '"')
	}
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '"', '\\':
			b = append(b, '\\', ch)
		case '<':
			b = append(b, `\u003c`...)
		case '>':
			b = append(b, `\u003e`...)
		case '&':
			b = append(b, `\u0026`...)
		default:
			b = append(b, ch)
		}
	}
	return append(b, '"')
}

func jsonStringLen(s string) int {
	n := 2 + len(s)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\\':
			n++
		case '<', '>', '&':
			n += 5
		}
	}
	return n
}

// decodeTemplateData decodes the object as the template sees it: fresh, with
// json.Number, as KWOK does.
func decodeTemplateData(obj []byte) (any, error) {
	var data any
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	if err := dec.Decode(&data); err != nil {
		return nil, err
	}
	return data, nil
}
