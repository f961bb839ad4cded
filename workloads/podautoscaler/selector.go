package podautoscaler

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// selectors is the controller's selector tracker (hpa_selector_store.go): the selector of
// each HPA's target, by namespace and HPA name, as last parsed. An HPA is tracked from its
// creation with a selector that matches nothing (enqueueHPA: PutIfAbsent labels.Nothing()).
type selectors map[string]map[string]labels.Selector

func (s selectors) put(ns, name string, sel labels.Selector) {
	if s[ns] == nil {
		s[ns] = map[string]labels.Selector{}
	}
	s[ns][name] = sel
}

func (s selectors) putIfAbsent(ns, name string) {
	if _, ok := s[ns][name]; !ok {
		s.put(ns, name, labels.Nothing())
	}
}

func (s selectors) delete(ns, name string) {
	delete(s[ns], name)
	if len(s[ns]) == 0 {
		delete(s, ns)
	}
}

// matching is HPAsMatchingPods(namespace, pods, 2): up to two HPAs whose selector matches one
// of the pods, as "namespace/name", sorted (upstream collects them from a map, in no order).
// As upstream, each distinct label set is matched once: a workload's pods share theirs.
func (s selectors) matching(ns string, pods []*corev1.Pod) []string {
	names := make([]string, 0, len(s[ns]))
	for n := range s[ns] {
		names = append(names, n)
	}
	slices.Sort(names)
	seen := map[string]bool{}
	var sets []labels.Set
	for _, p := range pods {
		set := labels.Set(p.Labels)
		if k := set.String(); !seen[k] {
			seen[k] = true
			sets = append(sets, set)
		}
	}
	var out []string
	for _, n := range names {
		if slices.ContainsFunc(sets, func(set labels.Set) bool { return s[ns][n].Matches(set) }) {
			out = append(out, fmt.Sprintf("%s/%s", ns, n))
			if len(out) == 2 {
				break
			}
		}
	}
	return out
}
