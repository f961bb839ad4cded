package perf

import (
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
	// tally counts each namespace's pods by state, so that a wait without a label selector,
	// asked at every instant, costs nothing per pod.
	tally map[string]*tally
	// collector, while one is measuring, is told of each pod that becomes scheduled.
	collector *collector
	// onScheduled, when set, is told of each pod that becomes scheduled (a steady-state
	// createPods); it must not write (the Watcher rule) but schedule its writes on the clock.
	onScheduled func(ns, name string)
}

type podEntry struct {
	name      string
	labels    map[string]string
	scheduled bool
	attempted bool
	// message is the scheduler's message on an unscheduled pod, for a wait that times out.
	message string
}

type tally struct{ scheduled, attempted, unattempted int }

func (t *tally) add(e *podEntry, n int) {
	switch {
	case e.scheduled:
		t.scheduled += n
	case e.attempted:
		t.attempted += n
	default:
		t.unattempted += n
	}
}

func newPodIndex() *podIndex {
	return &podIndex{byNS: map[string]map[types.UID]*podEntry{}, tally: map[string]*tally{}}
}

// observe is the Watcher. It reads the wall clock only to time a measured pod's scheduling,
// which is a runtime figure: nothing the simulation decides depends on it.
func (x *podIndex) observe(ev sim.WatchEvent) {
	pod, ok := ev.Object.(*corev1.Pod)
	if !ok {
		return
	}
	ns, t := x.byNS[pod.Namespace], x.tally[pod.Namespace]
	if ev.Type == watch.Deleted {
		if e := ns[pod.UID]; e != nil {
			t.add(e, -1)
			delete(ns, pod.UID)
		}
		return
	}
	if ns == nil {
		ns, t = map[types.UID]*podEntry{}, &tally{}
		x.byNS[pod.Namespace], x.tally[pod.Namespace] = ns, t
	}
	e := ns[pod.UID]
	if e == nil {
		e = &podEntry{name: pod.Name}
		ns[pod.UID] = e
	} else {
		t.add(e, -1)
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
	t.add(e, 1)
	if !was && e.scheduled && x.collector != nil && x.collector.measures(pod.Namespace, pod.Labels) {
		x.collector.scheduled = append(x.collector.scheduled, time.Now())
	}
	if !was && e.scheduled && x.onScheduled != nil {
		x.onScheduled(pod.Namespace, pod.Name)
	}
}

// count is upstream's getScheduledPods for one namespace: pods scheduled, attempted but not
// scheduled, and not attempted, matching the selector.
func (x *podIndex) count(ns string, selector map[string]string) (scheduled, attempted, unattempted int) {
	if len(selector) == 0 {
		if t := x.tally[ns]; t != nil {
			return t.scheduled, t.attempted, t.unattempted
		}
		return 0, 0, 0
	}
	for _, e := range x.byNS[ns] {
		if labelsMatch(e.labels, selector) {
			var t tally
			t.add(e, 1)
			scheduled, attempted, unattempted = scheduled+t.scheduled, attempted+t.attempted, unattempted+t.unattempted
		}
	}
	return scheduled, attempted, unattempted
}

// pending is one pod of the namespace not scheduled, for the message of a wait that timed
// out: the first by name among those attempted, else among those never attempted, as
// waitUntilPodsScheduledInNamespace names one; with unattemptedOnly, among those never
// attempted (waitUntilPodsAttemptedInNamespace).
func (x *podIndex) pending(ns string, selector map[string]string, unattemptedOnly bool) *podEntry {
	var att, unatt *podEntry
	for _, e := range x.byNS[ns] {
		if e.scheduled || !labelsMatch(e.labels, selector) {
			continue
		}
		if e.attempted {
			if att == nil || e.name < att.name {
				att = e
			}
		} else if unatt == nil || e.name < unatt.name {
			unatt = e
		}
	}
	if att != nil && !unattemptedOnly {
		return att
	}
	return unatt
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
