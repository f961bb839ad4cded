package replicaset

import (
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/kubernetes/pkg/controller"

	"github.com/kwoksim/kwoksim/sim"
)

// podCounts are the counts of a ReplicaSet's pods its status reports: active (not being
// deleted, not terminal), terminating (being deleted, not terminal), and of the active ones
// those Ready and those carrying every template label.
type podCounts struct{ active, terminating, ready, labeled int32 }

// podTally keeps a ReplicaSet's counts current as its pods change. A ReplicaSet of n pods
// whose pods become Ready at n different instants is synced n times; counting its pods anew
// each time made a 10,000-pod Deployment cost minutes.
type podTally struct {
	podCounts
	// labels are the template labels the labeled count is for; a change rebuilds the tally.
	labels map[string]string
}

func (t *podTally) add(p *corev1.Pod, sign int32) {
	switch {
	case controller.IsPodActive(p):
		t.active += sign
		if podutil.IsPodReady(p) {
			t.ready += sign
		}
		if labelsMatch(t.labels, p.Labels) {
			t.labeled += sign
		}
	case controller.IsPodTerminating(p):
		t.terminating += sign
	}
}

// observe moves each pod change into the tally of its ReplicaSet, if that has one; a
// ReplicaSet without one is counted afresh at its next sync.
func (r *Controller) observe(ev sim.WatchEvent) {
	switch o := ev.Object.(type) {
	case *corev1.Pod:
		if ev.Type != watch.Added {
			r.count(ev.Old.(*corev1.Pod), -1)
		}
		if ev.Type != watch.Deleted {
			r.count(o, 1)
		}
	default:
		if ev.Type == watch.Deleted && ev.Kind.Name() == r.kind.name {
			delete(r.tallies, ev.Object.(metav1.Object).GetUID())
		}
	case *corev1.ResourceQuota, *corev1.LimitRange:
		// A change that may let a refused pod in: the waiting retries must run, even if
		// nothing else keeps the run going until they are due (see Queue.AddRateLimited).
		r.queue.WakeRetries(ev.Object.(metav1.Object).GetNamespace())
	}
}

func (r *Controller) count(p *corev1.Pod, sign int32) {
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
		if t := r.tallies[ref.UID]; t != nil {
			t.add(p, sign)
		}
	}
}

// tally returns the ReplicaSet's tally, counting its pods if it has none yet or its template
// labels changed.
func (r *Controller) tally(rs *appsv1.ReplicaSet) *podTally {
	t := r.tallies[rs.UID]
	if t == nil || !maps.Equal(t.labels, rs.Spec.Template.Labels) {
		t = &podTally{labels: rs.Spec.Template.Labels}
		r.m.EachOwned(rs.UID, func(o runtime.Object) {
			if p, ok := o.(*corev1.Pod); ok {
				t.add(p, 1)
			}
		})
		r.tallies[rs.UID] = t
	}
	return t
}

// activePods lists the ReplicaSet's active pods, in no particular order.
func (r *Controller) activePods(uid types.UID) []*corev1.Pod {
	var out []*corev1.Pod
	r.m.EachOwned(uid, func(o runtime.Object) {
		if p, ok := o.(*corev1.Pod); ok && controller.IsPodActive(p) {
			out = append(out, p)
		}
	})
	return out
}
