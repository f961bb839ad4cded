package sim

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// defaultRelayoutNodeWrites is the default of Config.RelayoutNodeWrites. Below a thousand
// nodes what the scheduler reads of them fits in the caches anyway.
const defaultRelayoutNodeWrites = 1024

// nodeLayout lays out the nodes the scheduler reads in one contiguous block.
//
// Why: in every scheduling cycle the scheduler's default topology spreading reads the labels
// of every node in the cluster, not only of the candidates, so at thousands of nodes that loop
// decides a run's speed, and it is bound by memory, not by instructions. A node the simulator
// stores was decoded and converted at its own write, amid that write's garbage, so the node
// objects and their label maps end up spread over the whole heap. On 5,000 nodes a pass over
// their labels measured 4–5× slower than over nodes decoded from one list, the way a
// scheduler started against a real apiserver gets them (its informers' initial LIST), and
// the scheduling cycles up to 2× slower in all. Copying the nodes into one slice, with their
// labels, in one pass, gives the scheduler the compact layout of a fresh list.
//
// The scheduler receives the copies as updates that change nothing, as on an informer
// resync: its cache takes the new objects and no cluster event fires, so no decision can
// depend on whether or when a relayout happened (TestRelayoutDoesNotChangeTheReport).
type nodeLayout struct {
	// threshold is Config.RelayoutNodeWrites; writes counts node writes since the last
	// relayout; done counts relayouts.
	threshold, writes, done int
	// nodes is how many nodes are stored: relayout is asked at every instant, and listing the
	// informer's keys there to count them cost the openb replay (1,523 nodes, 2.6 million
	// instants) most of its time.
	nodes int
}

// noteWrite counts a node write.
func (l *nodeLayout) noteWrite() { l.writes++ }

// due reports whether enough nodes were written, out of n, to lay them out again.
func (l *nodeLayout) due(n int) bool {
	return relayoutDue(l.threshold, l.writes, defaultRelayoutNodeWrites, n)
}

// relayoutDue reports whether writes since the last relayout of n objects make another due:
// threshold is the configured number of writes; zero means the default, at least least
// writes and a quarter of n (the objects written since then lie amid garbage); negative
// means never.
func relayoutDue(threshold, writes, least, n int) bool {
	switch {
	case threshold < 0 || writes == 0:
		return false
	case threshold > 0:
		return writes >= threshold
	default:
		return writes >= least && writes >= n/4
	}
}

// relayout copies the informer's nodes, in name order, into one new slice and hands the
// copies to the informer's handlers, when due; stored is told each copy, for the store.
func (l *nodeLayout) relayout(inf *syncInformer, stored func(old, cur *corev1.Node)) {
	if inf == nil {
		return
	}
	if !l.due(l.nodes) {
		return
	}
	keys := inf.indexer.ListKeys()
	l.writes = 0
	l.done++
	sort.Strings(keys)
	slab := make([]corev1.Node, len(keys))
	for i, k := range keys {
		o, ok, _ := inf.indexer.GetByKey(k)
		old, isNode := o.(*corev1.Node)
		if !ok || !isNode {
			continue
		}
		n := &slab[i]
		*n = *old
		n.Labels = cloneLabels(old.Labels)
		inf.replace(old, n)
		stored(old, n)
	}
}

// cloneLabels copies a label map and its values (the keys are few and shared by every node),
// so that the copies lie next to each other in memory.
func cloneLabels(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = strings.Clone(v)
	}
	return c
}
