package sim

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/clock"
)

// terminations ends graceful pod deletions as a kubelet does: a pod deleted with a grace
// period (deletionTimestamp set, deletionGracePeriodSeconds > 0) is removed with grace 0 when
// the period ends, at deletionTimestamp, unless something removed it before. KWOK's stages
// decide most of the time: stage-fast's pod-delete removes the pod at once, KWOK's "general"
// pod-delete at deletionTimestamp; this is what happens without such a stage, as a kubelet
// kills the containers at the latest when the grace period ends and then deletes the pod
// (pkg/kubelet/status/status_manager.go, canBeDeleted then a delete with grace 0).
//
// The removal is a foreground clock event (the run goes on until it happens), cancelled when
// the pod goes first. Pods whose node does not exist or whose kubelet is stopped (Simulator.
// SetKubelet) stay Terminating, as on a dead node, until the pod garbage collector or a force
// delete removes them, and no event is planned for them; when a stopped kubelet runs again,
// their removal is planned anew (at once if the grace period is over).
type terminations struct {
	api     *API
	clock   *clock.Virtual
	pending map[types.UID]*clock.Event
}

func newTerminations(api *API, c *clock.Virtual) *terminations {
	return &terminations{api: api, clock: c, pending: map[types.UID]*clock.Event{}}
}

// observe is the Watcher: it (re)plans the removal of every gracefully deleted pod.
func (t *terminations) observe(ev WatchEvent) {
	if ev.Kind.Name() != "Pod" {
		return
	}
	pod := ev.Object.(*corev1.Pod)
	if ev.Type == watch.Deleted {
		t.cancel(pod.UID)
		return
	}
	t.plan(pod)
}

func (t *terminations) cancel(uid types.UID) {
	if e := t.pending[uid]; e != nil {
		e.Cancel()
		delete(t.pending, uid)
	}
}

// plan arms the removal of a pod whose grace period is running, at its deletionTimestamp.
func (t *terminations) plan(pod *corev1.Pod) {
	g := pod.DeletionGracePeriodSeconds
	if pod.DeletionTimestamp == nil || g == nil || *g <= 0 {
		return
	}
	if !t.kubeletCanAct(pod.Spec.NodeName) {
		// Nothing will remove it: no event keeps the run going for it (see resume).
		t.cancel(pod.UID)
		return
	}
	at := pod.DeletionTimestamp.Time
	if e := t.pending[pod.UID]; e != nil {
		if e.Pending() && e.At().Equal(at) {
			return
		}
		e.Cancel()
	}
	uid, ns, name := pod.UID, pod.Namespace, pod.Name
	t.pending[uid] = t.clock.At(at, func() {
		delete(t.pending, uid)
		t.remove(uid, ns, name)
	})
}

// remove deletes the pod with grace 0 if it is still the one planned for and its kubelet can
// act; a kubelet that cannot leaves it Terminating.
func (t *terminations) remove(uid types.UID, ns, name string) {
	obj, err := t.api.Get(kinds["Pod"], ns, name)
	if err != nil {
		return // gone
	}
	pod := obj.(*corev1.Pod)
	if pod.UID != uid || !t.kubeletCanAct(pod.Spec.NodeName) {
		return
	}
	zero := int64(0)
	// An error (the pod went meanwhile) leaves nothing to do; the next write replans.
	_ = t.api.Delete(kinds["Pod"], ns, name, metav1.DeleteOptions{GracePeriodSeconds: &zero,
		Preconditions: &metav1.Preconditions{UID: &uid}})
}

// kubeletCanAct tells whether a node exists and its kubelet is not stopped.
func (t *terminations) kubeletCanAct(node string) bool {
	if node == "" {
		return true
	}
	// The node informer's store, not API.Get: no copy of the node for every write of a
	// terminating pod.
	if _, ok, _ := t.api.informers["Node"].indexer.GetByKey(node); !ok {
		return false
	}
	st, _ := t.api.Kubelet(node)
	return st != KubeletStopped
}

// kubeletChanged plans, or drops, the removal of the node's Terminating pods when its kubelet
// stops or runs again.
func (t *terminations) kubeletChanged(node string) {
	pods, err := t.api.List(kinds["Pod"])
	if err != nil {
		return
	}
	for _, obj := range pods {
		if pod := obj.(*corev1.Pod); pod.Spec.NodeName == node {
			t.plan(pod)
		}
	}
}
