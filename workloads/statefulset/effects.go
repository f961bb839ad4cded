package statefulset

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	upstream "k8s.io/kubernetes/pkg/controller/statefulset"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// The real control reaches the cluster through three seams: a StatefulPodControlObjectManager
// (pods and claims), a record.EventRecorder and a StatefulSetStatusUpdaterInterface. effects
// implements all three over the simulated API and the run's recorder.
//
// Most of the control runs on the goroutine that calls it, and then effects writes at once, in
// the control's order. But with the Parallel policy (and the Recreate strategy) the control
// hands pods to slowStartBatch, which runs each pod's work on a goroutine of its own: in a
// cluster the order of those writes is up to the Go scheduler, and so it would be here, and
// with it the UIDs and names drawn from the seeded RNG, the resourceVersions, the order of
// watch events and of the events recorded (TestStatefulSetParallelIsDeterministic fails within
// a few runs if the writes are made as they come). So for such a sync effects defers every
// write, the status too: it records it and answers the control that it succeeded. Once the
// control has returned, the Controller makes the writes in a fixed order (inOrder) through the
// control's own exported StatefulPodControl methods, which write and record the real events
// ("SuccessfulCreate", "FailedCreate", …); the events the control recorded for the writes it
// believed made ("Successful…", exactly one per deferred write) are dropped.

// effectKind is what one deferred effect does.
type effectKind int

const (
	createPod effectKind = iota
	updatePod
	deletePod
	recordEvent
	writeStatus
)

// effect is one write the control asked for while effects was deferring.
type effect struct {
	kind effectKind
	// goroutine is the goroutine that asked for it.
	goroutine uint64
	// pod is the pod to create, update or delete.
	pod *corev1.Pod
	// set is the StatefulSet the control passed along (for a status: the set to write).
	set    *appsv1.StatefulSet
	status *appsv1.StatefulSetStatus
	// regarding, eventType, reason and message are an event's.
	regarding                  k8sruntime.Object
	eventType, reason, message string
}

// effects is the object manager, event recorder and status updater of the real control.
type effects struct {
	m       *manager.Manager
	podKind *sim.Kind

	mu sync.Mutex
	// caller is the goroutine running the sync.
	caller uint64
	// deferring: writes are recorded in pending instead of made.
	deferring bool
	pending   []effect
	// dropped counts the pod events recorded while deferring and dropped.
	dropped int
	// err is the first misuse seen: a write from another goroutine while not deferring, an
	// event effects cannot place.
	err error
}

var (
	_ upstream.StatefulPodControlObjectManager   = (*effects)(nil)
	_ upstream.StatefulSetStatusUpdaterInterface = (*effects)(nil)
	_ record.EventRecorder                       = (*effects)(nil)
)

// errClaims is the failure of a sync of a StatefulSet with volumeClaimTemplates.
var errClaims = errors.New("volumeClaimTemplates are not simulated yet: kwoksim stores no " +
	"PersistentVolumeClaims, and the StatefulSet controller creates a pod only once its claims exist " +
	"(a real cluster would create and bind them first), so this StatefulSet gets no pods; remove its " +
	"volumeClaimTemplates to simulate it without storage")

// begin starts a sync on the calling goroutine, deferring writes or not.
func (e *effects) begin(deferring bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.caller, e.deferring, e.pending, e.dropped, e.err = goroutineID(), deferring, nil, 0, nil
}

// end stops deferring and returns what was deferred, in order (inOrder), or the misuse seen.
func (e *effects) end(set *appsv1.StatefulSet) ([]effect, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	pending, err := e.pending, e.err
	writes := 0
	for _, ef := range pending {
		if ef.kind == createPod || ef.kind == updatePod || ef.kind == deletePod {
			writes++
		}
	}
	if err == nil && e.deferring && writes != e.dropped {
		err = fmt.Errorf("internal error: the StatefulSet control recorded %d pod events for %d deferred pod writes", e.dropped, writes)
	}
	e.deferring, e.pending, e.err = false, nil, nil
	if err != nil || len(pending) == 0 {
		return nil, err
	}
	return inOrder(set, e.caller, pending)
}

// deferred records ef and reports true while deferring; otherwise it checks that the write
// comes from the sync's goroutine.
func (e *effects) deferred(ef effect) (bool, error) {
	g := goroutineID()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.deferring {
		ef.goroutine = g
		e.pending = append(e.pending, ef)
		return true, nil
	}
	if g != e.caller {
		return false, e.misuse(fmt.Errorf("internal error: the StatefulSet control wrote from a goroutine of its own in a sync that does not defer its writes"))
	}
	return false, nil
}

func (e *effects) misuse(err error) error {
	if e.err == nil {
		e.err = err
	}
	return err
}

// CreatePod creates a pod through the simulated API.
func (e *effects) CreatePod(_ context.Context, pod *corev1.Pod, set *appsv1.StatefulSet) error {
	if ok, err := e.deferred(effect{kind: createPod, pod: pod.DeepCopy(), set: set.DeepCopy()}); ok || err != nil {
		return err
	}
	_, err := e.m.API().Create(pod)
	return err
}

// GetPod reads a stored pod.
func (e *effects) GetPod(namespace, name string) (*corev1.Pod, error) {
	obj, err := e.m.Get("Pod", namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Pod), nil
}

// UpdatePod updates a pod through the simulated API.
func (e *effects) UpdatePod(pod *corev1.Pod, set *appsv1.StatefulSet) error {
	if ok, err := e.deferred(effect{kind: updatePod, pod: pod.DeepCopy(), set: set.DeepCopy()}); ok || err != nil {
		return err
	}
	_, err := e.m.API().Update(pod)
	return err
}

// DeletePod deletes a pod through the simulated API, gracefully as a client's default delete.
func (e *effects) DeletePod(pod *corev1.Pod) error {
	if ok, err := e.deferred(effect{kind: deletePod, pod: pod.DeepCopy()}); ok || err != nil {
		return err
	}
	return e.m.API().Delete(e.podKind, pod.Namespace, pod.Name, metav1.DeleteOptions{})
}

// CreateClaim, GetClaim and UpdateClaim fail: claims are not simulated, and a StatefulSet with
// volumeClaimTemplates is refused before the control runs (errClaims).
func (e *effects) CreateClaim(*corev1.PersistentVolumeClaim, *appsv1.StatefulSet) error {
	return errClaims
}

func (e *effects) GetClaim(string, string) (*corev1.PersistentVolumeClaim, error) {
	return nil, errClaims
}

func (e *effects) UpdateClaim(*corev1.PersistentVolumeClaim, *appsv1.StatefulSet) error {
	return errClaims
}

// UpdateStatefulSetStatus writes a StatefulSet's status through the status subresource.
func (e *effects) UpdateStatefulSetStatus(_ context.Context, set *appsv1.StatefulSet, status *appsv1.StatefulSetStatus) error {
	if ok, err := e.deferred(effect{kind: writeStatus, set: set.DeepCopy(), status: status.DeepCopy()}); ok || err != nil {
		return err
	}
	next := set.DeepCopy()
	next.Status = *status
	_, err := e.m.API().UpdateStatus(next)
	return err
}

// Event records an event in the run's recorder. While deferring, the control's pod events
// are dropped (the deferred writes record their own when they are made) and any other event
// waits with the writes.
func (e *effects) Event(object k8sruntime.Object, eventType, reason, message string) {
	g := goroutineID()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.deferring {
		if g != e.caller {
			_ = e.misuse(fmt.Errorf("internal error: the StatefulSet control recorded event %s %q from a goroutine of its own in a sync that does not defer its writes", reason, message))
			return
		}
		e.m.Simulator().Recorder().Event(object, eventType, reason, message)
		return
	}
	switch reason {
	case "SuccessfulCreate", "SuccessfulUpdate", "SuccessfulDelete":
		// What recordPodEvent says of a write that succeeded, as every deferred write does.
		e.dropped++
		return
	}
	e.pending = append(e.pending, effect{kind: recordEvent, goroutine: g, regarding: object.DeepCopyObject(),
		eventType: eventType, reason: reason, message: message})
}

// Eventf is Event with a formatted message.
func (e *effects) Eventf(object k8sruntime.Object, eventType, reason, messageFmt string, args ...any) {
	e.Event(object, eventType, reason, fmt.Sprintf(messageFmt, args...))
}

// AnnotatedEventf is Eventf; the recorder keeps no annotations.
func (e *effects) AnnotatedEventf(object k8sruntime.Object, _ map[string]string, eventType, reason, messageFmt string, args ...any) {
	e.Eventf(object, eventType, reason, messageFmt, args...)
}

// inOrder puts deferred effects in the order the control would have made them had the
// goroutines of each slowStartBatch batch run one after another, in the order it starts them.
// Effects from the sync's own goroutine keep their place: the control makes them while no
// goroutine of its own runs (slowStartBatch waits for each batch), so their order against the
// others is fixed already. A maximal stretch of effects from other goroutines comes from the
// batches run between two such effects: over set's replicas (processReplica), in ascending
// ordinal order, then over the condemned pods (processCondemned), in descending ordinal order,
// each goroutine handling one pod. So a stretch is sorted by that key; each pod's effects
// come from one goroutine and keep their order.
func inOrder(set *appsv1.StatefulSet, caller uint64, pending []effect) ([]effect, error) {
	start := 0
	if set.Spec.Ordinals != nil {
		start = int(set.Spec.Ordinals.Start)
	}
	end := start + int(*set.Spec.Replicas) - 1
	key := func(ef effect) (condemned, order int) {
		_, o := parentAndOrdinal(ef.pod)
		if o >= start && o <= end {
			return 0, o
		}
		return 1, -o
	}
	out := slices.Clone(pending)
	for i := 0; i < len(out); {
		if out[i].goroutine == caller {
			i++
			continue
		}
		j, byPod := i, map[string]uint64{}
		for ; j < len(out) && out[j].goroutine != caller; j++ {
			ef := out[j]
			if ef.pod == nil {
				return nil, fmt.Errorf("internal error: the StatefulSet control recorded event %s %q from a goroutine of its own, which cannot be put in order", ef.reason, ef.message)
			}
			if g, seen := byPod[ef.pod.Name]; seen && g != ef.goroutine {
				return nil, fmt.Errorf("internal error: two goroutines of the StatefulSet control wrote pod %s at once", ef.pod.Name)
			}
			byPod[ef.pod.Name] = ef.goroutine
		}
		slices.SortStableFunc(out[i:j], func(a, b effect) int {
			ac, ao := key(a)
			bc, bo := key(b)
			return cmp.Or(cmp.Compare(ac, bc), cmp.Compare(ao, bo))
		})
		i = j
	}
	return out, nil
}

// goroutineID is the calling goroutine's id, from the first line of its stack trace
// ("goroutine 7 [running]:"). Go offers no other way to tell the control's goroutines apart.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		panic(fmt.Sprintf("cannot read the goroutine id from %q", buf[:]))
	}
	return id
}
