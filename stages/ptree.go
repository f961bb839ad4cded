package stages

import (
	"slices"
	"strconv"
	"strings"
)

// A patch tree is a cache entry's rendered patch, decoded once, with the
// holes left open. A render-cache hit hands it on with the hole values, so
// ApplyPatch can merge without decoding Patch.Data (see smerge.go). It is
// immutable and shared by every patch rendered from its entry.
type pnode struct {
	kind  byte     // pMap, pList, pHole or pScalar
	keys  []string // pMap: sorted, so that no work depends on map order
	kids  []*pnode // pMap: the values of keys; pList: the elements
	hole  int      // pHole: index into the hole values
	value any      // pScalar: string, float64, bool or nil
}

const (
	pMap = iota + 1
	pList
	pHole
	pScalar
)

// patchTree is the decoded form of a rendered Patch.Data: tree with vals in
// its holes, nested under root when the stage sets one.
type patchTree struct {
	root string
	node *pnode
	vals []string
	data []byte // the Data it decodes to; a Patch whose Data was replaced is decoded afresh
}

// newPatchTree converts v, the decoding of a render with the 'A' sentinels,
// into a pnode tree. ok is false when the tree is not one the fast merge
// handles: a '$' key (a strategic-merge directive) anywhere.
func newPatchTree(v any, holes int) (*pnode, bool) {
	switch t := v.(type) {
	case map[string]any:
		n := &pnode{kind: pMap, keys: make([]string, 0, len(t))}
		for k := range t {
			if strings.HasPrefix(k, "$") {
				return nil, false
			}
			n.keys = append(n.keys, k)
		}
		slices.Sort(n.keys)
		n.kids = make([]*pnode, len(n.keys))
		for i, k := range n.keys {
			c, ok := newPatchTree(t[k], holes)
			if !ok {
				return nil, false
			}
			n.kids[i] = c
		}
		return n, true
	case []any:
		n := &pnode{kind: pList, kids: make([]*pnode, len(t))}
		for i, e := range t {
			c, ok := newPatchTree(e, holes)
			if !ok {
				return nil, false
			}
			n.kids[i] = c
		}
		return n, true
	case string:
		// cutAtSentinels proved every sentinel is a whole string value.
		if h, ok := sentinelHole(t, holes); ok {
			return &pnode{kind: pHole, hole: h}, true
		}
	}
	return &pnode{kind: pScalar, value: v}, true
}

// sentinelHole reports which hole an 'A' sentinel stands for.
func sentinelHole(s string, holes int) (int, bool) {
	rest, ok := strings.CutPrefix(s, sentinelMark+"A")
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(rest, "-")
	if !ok {
		return 0, false
	}
	h, err := strconv.Atoi(num)
	if err != nil || h < 0 || h >= holes || strconv.Itoa(h) != num {
		return 0, false
	}
	return h, true
}

// scalar is a hole or scalar node's value.
func (n *pnode) scalar(vals []any) any {
	if n.kind == pHole {
		return vals[n.hole]
	}
	return n.value
}

// isNull reports whether n is JSON null.
func (n *pnode) isNull() bool {
	return n.kind == pScalar && n.value == nil
}

// inst builds a fresh value of n, as decoding the patch would give it;
// dropNulls drops null map values at every depth, as strategic merge does
// to a patch value it inserts (lists keep null elements).
func (n *pnode) inst(vals []any, dropNulls bool) any {
	switch n.kind {
	case pMap:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			c := n.kids[i]
			if dropNulls && c.isNull() {
				continue
			}
			m[k] = c.inst(vals, dropNulls)
		}
		return m
	case pList:
		s := make([]any, len(n.kids))
		for i, c := range n.kids {
			s[i] = c.inst(vals, dropNulls)
		}
		return s
	}
	return n.scalar(vals)
}

// child is the value of key k of a map node, or nil.
func (n *pnode) child(k string) *pnode {
	if i, ok := slices.BinarySearch(n.keys, k); ok {
		return n.kids[i]
	}
	return nil
}

// boxed is vals as interface values, boxed once however often a hole is
// used.
func boxed(vals []string) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

// decoded is the patch as decodeJSON(Data) would give it.
func (p *patchTree) decoded() any {
	v := p.node.inst(boxed(p.vals), false)
	if p.root != "" {
		return map[string]any{p.root: v}
	}
	return v
}

// strategicMerge merges the patch into target in place, as
// strategicpatch.StrategicMergeMapPatchUsingLookupPatchMeta would, or
// reports (having changed nothing) that the reference must do it.
func (p *patchTree) strategicMerge(target map[string]any, s *smSchema) bool {
	vals := boxed(p.vals)
	if p.root != "" {
		if !smergeCheckKey(target, p.root, p.node, vals, s) {
			return false
		}
		smergeApplyKey(target, p.root, p.node, vals, s)
		return true
	}
	if !smergeCheck(target, p.node, vals, s) {
		return false
	}
	smergeApply(target, p.node, vals, s)
	return true
}

// only reports whether the patch sets no top-level key but k.
func (p *patchTree) only(k string) bool {
	if p.root != "" {
		return p.root == k
	}
	for _, key := range p.node.keys {
		if key != k {
			return false
		}
	}
	return true
}
