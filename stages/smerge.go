package stages

import (
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// A strategic merge of a patch tree, for the patches KWOK stages write on
// Pod and Node: maps merge, null deletes, lists with a merge key merge by
// it, anything else replaces. It gives what
// strategicpatch.StrategicMergeMapPatchUsingLookupPatchMeta gives for the
// decoded patch (TestStrategicMergeTree holds it to that). Whatever it does
// not model makes smergeCheck fail before anything is changed, and the
// caller takes the reference path: directives (the tree refuses '$' keys),
// merge lists of scalars, merge keys that are not unique strings, schema
// errors.

// smSchema memoises strategicpatch's schema lookups, which walk Go types
// with reflection, per field.
type smSchema struct {
	meta strategicpatch.LookupPatchMeta

	// Copy-on-write memos, read without locking: every merge reads them,
	// and they stop growing once the stages' fields have been seen.
	maps   atomic.Pointer[map[string]*smField] // LookupPatchMetadataForStruct
	slices atomic.Pointer[map[string]*smField] // LookupPatchMetadataForSlice
	mu     sync.Mutex                          // serialises writers
}

type smField struct {
	ok       bool // false: the lookup failed, or the strategy is unexpected
	replace  bool
	merge    bool
	mergeKey string
	sub      *smSchema
}

var smSchemas = sync.OnceValue(func() map[string]*smSchema {
	out := map[string]*smSchema{}
	for kind, meta := range patchSchemas() {
		out[kind] = &smSchema{meta: meta}
	}
	return out
})

func (s *smSchema) field(k string, list bool) *smField {
	memo := &s.maps
	if list {
		memo = &s.slices
	}
	if m := memo.Load(); m != nil {
		if f, ok := (*m)[k]; ok {
			return f
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := memo.Load()
	if old != nil {
		if f, ok := (*old)[k]; ok {
			return f
		}
	}
	f := s.lookup(k, list)
	next := make(map[string]*smField, 1)
	if old != nil {
		for name, v := range *old {
			next[name] = v
		}
	}
	next[k] = f
	memo.Store(&next)
	return f
}

// lookup asks strategicpatch for field k's patch metadata.
func (s *smSchema) lookup(k string, list bool) *smField {
	f := &smField{}
	var sub strategicpatch.LookupPatchMeta
	var meta strategicpatch.PatchMeta
	var err error
	if list {
		sub, meta, err = s.meta.LookupPatchMetadataForSlice(k)
	} else {
		sub, meta, err = s.meta.LookupPatchMetadataForStruct(k)
	}
	if err == nil {
		// strategicpatch drops retainKeys, which only acts on a $retainKeys
		// directive, and rejects other combinations.
		var strategy []string
		for _, st := range meta.GetPatchStrategies() {
			if st != "retainKeys" {
				strategy = append(strategy, st)
			}
		}
		n := len(meta.GetPatchStrategies())
		if len(strategy) <= 1 && n-len(strategy) <= 1 && n <= 2 {
			f.ok = true
			if len(strategy) == 1 {
				f.replace = strategy[0] == "replace"
				f.merge = strategy[0] == "merge"
			}
			f.mergeKey = meta.GetPatchMergeKey()
			f.sub = &smSchema{meta: sub}
		}
	}
	return f
}

// smergeCheck reports whether smergeApply models merging n into orig.
func smergeCheck(orig map[string]any, n *pnode, vals []any, s *smSchema) bool {
	for i, k := range n.keys {
		if !smergeCheckKey(orig, k, n.kids[i], vals, s) {
			return false
		}
	}
	return true
}

// smergeCheckKey is smergeCheck for key k, whose patch value is c.
func smergeCheckKey(orig map[string]any, k string, c *pnode, vals []any, s *smSchema) bool {
	if c.isNull() {
		return true
	}
	ov, ok := orig[k]
	if !ok {
		return true
	}
	switch o := ov.(type) {
	case map[string]any:
		if c.kind != pMap {
			return true
		}
		f := s.field(k, false)
		return f.ok && (f.replace || smergeCheck(o, c, vals, f.sub))
	case []any:
		if c.kind != pList {
			return true
		}
		f := s.field(k, true)
		return f.ok && (!f.merge || smergeCheckList(o, c, vals, f))
	}
	return true
}

// smergeMaxList bounds the lists the fast merge takes: it scans them
// quadratically, as strategicpatch does, which is cheapest for the short
// lists objects have; longer ones (untrusted input) go to the reference.
const smergeMaxList = 64

// smergeCheckList accepts a merge list of objects whose merge keys are
// distinct strings on both sides.
func smergeCheckList(orig []any, n *pnode, vals []any, f *smField) bool {
	if len(orig) == 0 && len(n.kids) == 0 {
		return true
	}
	if f.mergeKey == "" || len(orig) > smergeMaxList || len(n.kids) > smergeMaxList {
		return false
	}
	for i, e := range orig {
		m, ok := e.(map[string]any)
		if !ok {
			return false
		}
		if _, directive := m["$patch"]; directive {
			// strategicpatch moves such elements of the object to the end.
			return false
		}
		kv, ok := m[f.mergeKey].(string)
		if !ok {
			return false
		}
		// Lists on objects are short; a quadratic scan allocates nothing.
		if indexByKey(orig[:i], f.mergeKey, kv) >= 0 {
			return false
		}
	}
	for j, c := range n.kids {
		kv, ok := listKey(c, vals, f.mergeKey)
		if !ok {
			return false
		}
		for _, prev := range n.kids[:j] {
			if pk, _ := listKey(prev, vals, f.mergeKey); pk == kv {
				return false
			}
		}
		if i := indexByKey(orig, f.mergeKey, kv); i >= 0 && !smergeCheck(orig[i].(map[string]any), c, vals, f.sub) {
			return false
		}
	}
	return true
}

// indexByKey is the index of the checked list element whose merge key is
// kv, or -1.
func indexByKey(list []any, mergeKey, kv string) int {
	for i, e := range list {
		if e.(map[string]any)[mergeKey] == kv {
			return i
		}
	}
	return -1
}

// patchHasKey reports whether a checked patch list has an element with
// merge key kv.
func patchHasKey(n *pnode, vals []any, mergeKey, kv string) bool {
	for _, c := range n.kids {
		if pk, _ := listKey(c, vals, mergeKey); pk == kv {
			return true
		}
	}
	return false
}

// listKey is the merge key value of a patch list element.
func listKey(c *pnode, vals []any, mergeKey string) (string, bool) {
	if c.kind != pMap {
		return "", false
	}
	kn := c.child(mergeKey)
	if kn == nil || (kn.kind != pHole && kn.kind != pScalar) {
		return "", false
	}
	kv, ok := kn.scalar(vals).(string)
	return kv, ok
}

// smergeApply merges n into orig in place; smergeCheck must have passed.
func smergeApply(orig map[string]any, n *pnode, vals []any, s *smSchema) {
	for i, k := range n.keys {
		smergeApplyKey(orig, k, n.kids[i], vals, s)
	}
}

// smergeApplyKey is smergeApply for key k, whose patch value is c.
func smergeApplyKey(orig map[string]any, k string, c *pnode, vals []any, s *smSchema) {
	if c.isNull() {
		delete(orig, k)
		return
	}
	ov, ok := orig[k]
	if !ok {
		orig[k] = c.inst(vals, true)
		return
	}
	switch o := ov.(type) {
	case map[string]any:
		if c.kind == pMap {
			if f := s.field(k, false); f.replace {
				orig[k] = c.inst(vals, false)
			} else {
				smergeApply(o, c, vals, f.sub)
			}
			return
		}
	case []any:
		if c.kind == pList {
			if f := s.field(k, true); f.merge {
				orig[k] = smergeList(o, c, vals, f)
			} else {
				orig[k] = c.inst(vals, false)
			}
			return
		}
	}
	orig[k] = c.inst(vals, true)
}

// smergeList is strategicpatch's mergeSlice for a checked list of objects:
// matching elements merge in place, new ones are appended, then the patch's
// elements take the patch's order and the server-only elements are woven in
// before the first patch element that follows them in the original.
func smergeList(orig []any, n *pnode, vals []any, f *smField) []any {
	if len(orig) == 0 && len(n.kids) == 0 {
		return orig
	}
	right := make([]any, len(n.kids))
	rightAt := make([]int, len(n.kids)) // index in orig, or -1
	for j, c := range n.kids {
		kv, _ := listKey(c, vals, f.mergeKey)
		if i := indexByKey(orig, f.mergeKey, kv); i >= 0 {
			m := orig[i].(map[string]any)
			smergeApply(m, c, vals, f.sub)
			right[j], rightAt[j] = m, i
		} else {
			right[j], rightAt[j] = c.inst(vals, false), -1
		}
	}
	left := make([]int, 0, len(orig))
	for i, e := range orig {
		if !patchHasKey(n, vals, f.mergeKey, e.(map[string]any)[f.mergeKey].(string)) {
			left = append(left, i)
		}
	}
	out := make([]any, 0, len(left)+len(right))
	i, j := 0, 0
	for i < len(left) || j < len(right) {
		switch {
		case j >= len(right):
			out = append(out, orig[left[i]])
			i++
		case i < len(left) && rightAt[j] >= 0 && left[i] < rightAt[j]:
			out = append(out, orig[left[i]])
			i++
		default:
			out = append(out, right[j])
			j++
		}
	}
	return out
}
