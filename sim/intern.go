package sim

import (
	"slices"
	"strconv"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// maxLabelSets bounds the interning table; past it the table starts over, which only costs
// sharing, never correctness.
const maxLabelSets = 1 << 16

// labelSets interns the label maps of stored objects by content, so that every object with
// the same labels (the pods of one ReplicaSet, every version of one node) shares one map, and
// their namespaces one string.
//
// Why: the scheduler's default topology spreading matches a selector against the labels of
// every pod on every candidate node, and reads every node's labels, in every scheduling cycle.
// That loop is most of a large run's time, and it is bound by memory, not by instructions:
// with a map per pod version, allocated wherever the write that produced it happened to be,
// each pod costs several cache misses; with one shared map, the map stays in the cache and a
// string comparison of shared strings stops at their pointers.
//
// Sharing is safe because stored objects are immutable: the API layer never changes an object
// it has stored (the tracker and the informers hold the same one, see sharedTracker), callers
// get deep copies, and informer consumers must copy before modifying, as with any
// informer cache.
type labelSets struct {
	sets map[string]map[string]string
	buf  []byte
	keys []string
}

// intern returns the shared map with m's content, making m that map if it is the first.
func (t *labelSets) intern(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	t.keys = t.keys[:0]
	for k := range m {
		t.keys = append(t.keys, k)
	}
	slices.Sort(t.keys)
	// Length-prefixed, so that no two label sets share a key whatever their strings hold.
	t.buf = t.buf[:0]
	for _, k := range t.keys {
		v := m[k]
		t.buf = strconv.AppendInt(t.buf, int64(len(k)), 10)
		t.buf = append(t.buf, ':')
		t.buf = append(t.buf, k...)
		t.buf = strconv.AppendInt(t.buf, int64(len(v)), 10)
		t.buf = append(t.buf, ':')
		t.buf = append(t.buf, v...)
	}
	if s, ok := t.sets[string(t.buf)]; ok {
		return s
	}
	if t.sets == nil || len(t.sets) >= maxLabelSets {
		t.sets = make(map[string]map[string]string)
	}
	t.sets[string(t.buf)] = m
	return m
}

// share points an object about to be stored at the interned labels and namespace.
func (t *labelSets) share(m metav1.Object) {
	if ns := m.GetNamespace(); ns != "" {
		m.SetNamespace(unique.Make(ns).Value())
	}
	if l := m.GetLabels(); len(l) > 0 {
		m.SetLabels(t.intern(l))
	}
}
