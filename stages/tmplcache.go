package stages

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"text/template"
)

// The render cache. A cacheable template (see tmplread.go) renders the same
// JSON for every object that agrees on what the template reads and whose Env
// calls answer with the same shapes, except at the holes, where non-empty
// strings the Env returned land, through Quote, as whole JSON string values.
// So the JSON is computed once per distinct read set, with sentinels in the
// holes, and later renders splice the real values in.
//
// The first render of a read set is the full render, with every Env call
// recorded. Which calls a render makes depends on the read set and on the
// shapes of earlier answers only, so the entry keeps that sequence of calls
// (site and shape). The layout is proved by rendering twice more, with two
// different sentinel sets answering the recorded calls in their shapes, and
// checking that the outputs differ exactly at the sentinels; where that
// fails the read set is marked and renders in full. A later render makes the
// entry's calls in order, reading each site's arguments from the object. An
// answer of another shape than the entry's moves the walk to another
// variant of the read set that agrees with every answer so far; where there
// is none, the render is in full (replaying the calls made) and makes a new
// variant, up to maxVariants. Hole values are spliced only when they are
// printable ASCII, for which Quote, the YAML double-quoted scalar and the
// JSON re-encoding agree.

// maxCacheEntries bounds one template's cache; when full it starts afresh.
const maxCacheEntries = 4096

// maxVariants bounds the entries of one read set: objects that agree on
// what the template reads but get answers of other shapes (a pod on a
// dual-stack node has two addresses, on another node one).
const maxVariants = 4

type renderCache struct {
	plan  *readPlan
	sites []site
	base  *template.Template // the analysed copy, site functions renamed

	mu      sync.Mutex
	entries map[string][]*cacheEntry // per read set, its variants; never changed in place
	pool    sync.Pool                // of *sentinelTmpl
}

// cacheEntry is the rendered JSON of one read set, cut at the holes.
type cacheEntry struct {
	splice  bool        // false: this read set does not splice; render in full
	calls   []entryCall // the Env calls a render makes, in order
	slots   int         // holes: the non-empty strings the calls answer
	segs    [][]byte    // JSON around the hole values: segs[0] v segs[1] v …
	occ     []int       // the hole printed before segs[i+1]
	yamlLen int         // rendered YAML length with the A sentinels
	yamlOcc []int       // per hole: how often its A sentinel is in that YAML
	sentLen []int       // per hole: the length of Quote(its A sentinel)
	tree    *pnode      // the decoded JSON with its holes open; nil when the fast merge cannot take it
}

// entryCall is one Env call of an entry and the shape of its answer.
type entryCall struct {
	site  int
	num   int    // 'v': the answer; 'l': the list's length
	empty []bool // 'h': whether the answer is ""; 'l': per element
}

func shapeOf(siteIdx int, c envCall) entryCall {
	e := entryCall{site: siteIdx}
	switch siteFuncs[c.fn].result {
	case 'h':
		e.empty = []bool{c.str == ""}
	case 'l':
		e.num = len(c.strs)
		e.empty = make([]bool, len(c.strs))
		for i, s := range c.strs {
			e.empty[i] = s == ""
		}
	case 'v':
		e.num = c.num
	}
	return e
}

// matches reports whether c answered in e's shape.
func (e *entryCall) matches(c *envCall) bool {
	switch siteFuncs[c.fn].result {
	case 'h':
		return e.empty[0] == (c.str == "")
	case 'l':
		if len(c.strs) != e.num {
			return false
		}
		for i, s := range c.strs {
			if e.empty[i] != (s == "") {
				return false
			}
		}
		return true
	case 'v':
		return c.num == e.num
	}
	return false
}

// appendSlots appends the hole values of a call's answer.
func appendSlots(vals []string, c *envCall) []string {
	switch siteFuncs[c.fn].result {
	case 'h':
		if c.str != "" {
			vals = append(vals, c.str)
		}
	case 'l':
		for _, s := range c.strs {
			if s != "" {
				vals = append(vals, s)
			}
		}
	}
	return vals
}

func newRenderCache(t *template.Template) *renderCache {
	tree := t.Tree.Copy()
	r := analyseTemplate(tree)
	if r == nil {
		return nil
	}
	base := template.New(t.Name()).Funcs(baseFuncs)
	if _, err := base.AddParseTree(t.Name(), tree); err != nil {
		return nil
	}
	return &renderCache{plan: planOf(r.root), sites: r.sites, base: base, entries: map[string][]*cacheEntry{}}
}

func (c *renderCache) lookup(key []byte) []*cacheEntry {
	c.mu.Lock()
	vs := c.entries[string(key)]
	c.mu.Unlock()
	return vs
}

// store makes e the first variant of its read set, or adds it as another.
func (c *renderCache) store(key []byte, e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	vs, ok := c.entries[string(key)]
	if !ok && len(c.entries) >= maxCacheEntries {
		clear(c.entries)
	}
	if len(vs) >= maxVariants || (ok && (!e.splice || !vs[0].splice)) {
		return
	}
	// A fresh slice: a render may be walking the old one.
	c.entries[string(key)] = append(slices.Clip(vs), e)
}

// build makes the entry of a new read set from a full render of obj (js its
// JSON) that made calls.
func (c *renderCache) build(js []byte, obj map[string]any, calls []envCall) *cacheEntry {
	noSplice := &cacheEntry{}
	yamlA, jsonA, sitesA, nA, err := c.renderSentinels(js, 'A', calls)
	if err != nil {
		return noSplice
	}
	_, jsonB, sitesB, nB, err := c.renderSentinels(js, 'B', calls)
	if err != nil || len(sitesA) != len(calls) || !slices.Equal(sitesA, sitesB) || nA != nB {
		return noSplice
	}
	e := &cacheEntry{splice: true, slots: nA, calls: make([]entryCall, len(calls))}
	for k, call := range calls {
		// The arguments the fast path will read must be the ones the
		// template passed.
		args, ok := siteArgs(&c.sites[sitesA[k]], obj)
		if !ok || !slices.Equal(args, call.args) {
			return noSplice
		}
		e.calls[k] = shapeOf(sitesA[k], call)
	}
	segs, occ, ok := cutAtSentinels(jsonA, 'A', nA)
	if !ok {
		return noSplice
	}
	// The B render must be the A layout with B sentinels: then nothing but
	// the holes depends on the hole values.
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
	e.segs, e.occ, e.yamlLen = segs, occ, len(yamlA)
	e.yamlOcc, e.sentLen = make([]int, nA), make([]int, nA)
	for h := range nA {
		e.yamlOcc[h] = bytes.Count(yamlA, []byte(sentinel('A', h)))
		e.sentLen[h] = len(sentinel('A', h)) + 2
	}
	if v, err := decodeJSON(jsonA); err == nil {
		if t, ok := newPatchTree(v, nA); ok && t.kind == pMap {
			e.tree = t
		}
	}
	return e
}

// callEnv makes the Env calls of the variant (of vs) the answers fit, in
// order, reading each site's arguments from obj. It returns that variant and
// the hole values; else nil and the calls made, for the full render to
// replay, with shapeless true when it was the answers' shapes that no
// variant has (not an argument that cannot be read or a failed call).
func callEnv(vs []*cacheEntry, sites []site, obj map[string]any, env Env) (e *cacheEntry, vals []string, calls []envCall, shapeless bool) {
	e = vs[0]
	calls = make([]envCall, 0, len(e.calls))
	for k := 0; k < len(e.calls); k++ {
		ec := &e.calls[k]
		s := &sites[ec.site]
		args, ok := siteArgs(s, obj)
		if !ok {
			return nil, nil, calls, false
		}
		calls = append(calls, callEnvFunc(s.fn, args, env))
		c := &calls[k]
		if c.err != nil {
			return nil, nil, calls, false
		}
		if !ec.matches(c) {
			if e = fitting(vs, e, calls); e == nil {
				return nil, nil, calls, true
			}
		}
	}
	vals = make([]string, 0, e.slots)
	for i := range calls {
		vals = appendSlots(vals, &calls[i])
	}
	return e, vals, calls, false
}

// fitting finds a variant whose calls begin as cur's did and whose shapes
// fit the answers so far.
func fitting(vs []*cacheEntry, cur *cacheEntry, calls []envCall) *cacheEntry {
	for _, v := range vs {
		if len(v.calls) < len(calls) {
			continue
		}
		fits := true
		for i := range calls {
			if v.calls[i].site != cur.calls[i].site || !v.calls[i].matches(&calls[i]) {
				fits = false
				break
			}
		}
		if fits {
			return v
		}
	}
	return nil
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
