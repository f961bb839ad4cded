package perf

import (
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/sim"
)

// podIndex is what scheduler_perf reads from its pod informer (getScheduledPods): per
// namespace, which pods exist, which are scheduled and which were attempted (they carry a
// PodScheduled condition). It is kept by a Watcher, so that waiting on it costs nothing per
// instant; counts by label selector walk the namespace's pods.
type podIndex struct {
	byNS map[string]map[types.UID]*podEntry
	// collector, while one is measuring, is told of each pod that becomes scheduled.
	collector *collector
}

type podEntry struct {
	name      string
	labels    map[string]string
	scheduled bool
	attempted bool
	// message is the scheduler's message on an unscheduled pod, for a wait that times out.
	message string
}

func newPodIndex() *podIndex { return &podIndex{byNS: map[string]map[types.UID]*podEntry{}} }

// observe is the Watcher. It reads the wall clock only to time a measured pod's scheduling,
// which is a runtime figure: nothing the simulation decides depends on it.
func (x *podIndex) observe(ev sim.WatchEvent) {
	pod, ok := ev.Object.(*corev1.Pod)
	if !ok {
		return
	}
	ns := x.byNS[pod.Namespace]
	if ev.Type == watch.Deleted {
		delete(ns, pod.UID)
		return
	}
	if ns == nil {
		ns = map[types.UID]*podEntry{}
		x.byNS[pod.Namespace] = ns
	}
	e := ns[pod.UID]
	if e == nil {
		e = &podEntry{name: pod.Name}
		ns[pod.UID] = e
	}
	was := e.scheduled
	e.labels = pod.Labels
	e.scheduled = pod.Spec.NodeName != ""
	e.attempted, e.message = false, ""
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			e.attempted, e.message = true, c.Message
		}
	}
	if !was && e.scheduled && x.collector != nil && x.collector.measures(pod.Namespace, pod.Labels) {
		x.collector.scheduled = append(x.collector.scheduled, time.Now())
	}
}

// count is upstream's getScheduledPods for one namespace: pods scheduled, attempted but not
// scheduled, and not attempted, matching the selector; pending is one pod not scheduled
// (attempted first, as waitUntilPodsScheduledInNamespace names it), by name.
func (x *podIndex) count(ns string, selector map[string]string) (scheduled, attempted, unattempted int, pending *podEntry) {
	var att, unatt *podEntry
	for _, e := range x.byNS[ns] {
		if !labelsMatch(e.labels, selector) {
			continue
		}
		switch {
		case e.scheduled:
			scheduled++
		case e.attempted:
			attempted++
			if att == nil || e.name < att.name {
				att = e
			}
		default:
			unattempted++
			if unatt == nil || e.name < unatt.name {
				unatt = e
			}
		}
	}
	pending = att
	if pending == nil {
		pending = unatt
	}
	return scheduled, attempted, unattempted, pending
}

// names lists, sorted, the pods of a namespace matching the selector (deletePods lists them
// from the informer, sorted by its lister's order; here by name).
func (x *podIndex) names(ns string, selector map[string]string) []string {
	var out []string
	for _, e := range x.byNS[ns] {
		if labelsMatch(e.labels, selector) {
			out = append(out, e.name)
		}
	}
	slices.Sort(out)
	return out
}

// labelsMatch is upstream's: every required label has the value.
func labelsMatch(actual, required map[string]string) bool {
	for k, v := range required {
		if a, ok := actual[k]; !ok || a != v {
			return false
		}
	}
	return true
}

// sortedKeys lists a map's keys in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
