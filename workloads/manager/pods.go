package manager

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"

	"github.com/kwoksim/kwoksim/sim"
)

// PodChanged is an OwnedFilter's test for controllers of pods that act on a pod's life, not
// its details: every change of an object that is not a pod, a pod created or gone, and of a
// pod that was updated, a change of phase, the start of its termination, readiness or labels.
// Other status changes (IPs, container statuses) change nothing such a controller decides, so
// they cost no sync.
func PodChanged(ev sim.WatchEvent) bool {
	if ev.Kind.Name() != "Pod" || ev.Old == nil || ev.Type == watch.Deleted {
		return true
	}
	old, cur := ev.Old.(*corev1.Pod), ev.Object.(*corev1.Pod)
	return old.Status.Phase != cur.Status.Phase ||
		(old.DeletionTimestamp == nil) != (cur.DeletionTimestamp == nil) ||
		podutil.IsPodReady(old) != podutil.IsPodReady(cur) ||
		!maps.Equal(old.Labels, cur.Labels)
}
