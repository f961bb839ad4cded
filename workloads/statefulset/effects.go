package statefulset

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
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
	createClaim
	updateClaim
)

// effect is one write the control asked for while effects was deferring.
type effect struct {
	kind effectKind
	// goroutine is the goroutine that asked for it.
	goroutine uint64
	// pod is the pod to create, update or delete.
	pod *corev1.Pod
	// claim is the claim to create or update (claims.go).
	claim *corev1.PersistentVolumeClaim
	// ordinal is the ordinal of the pod an event or claim effect is about, when placed is
	// set: the one the goroutine last worked on (a goroutine of the control handles one pod).
	ordinal int
	placed  bool
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
	// claims are the claims created while not deferring, made at the control's next call
	// (claims.go); claimEvents counts the control's events for claims created, which effects
	// drops, as it records them itself when it makes the claims (while deferring: when the
	// Controller makes the deferred creations).
	claims      []effect
	claimEvents int
	// claimErr is the failure of claims created while not deferring that the control did not
	// see (claims.go flush).
	claimErr error
	// working is the ordinal each goroutine last worked on, while deferring (see effect.ordinal).
	working map[uint64]int
	// err is the first misuse seen: a write from another goroutine while not deferring, an
	// event effects cannot place.
	err error
}

var (
	_ upstream.StatefulPodControlObjectManager   = (*effects)(nil)
	_ upstream.StatefulSetStatusUpdaterInterface = (*effects)(nil)
	_ record.EventRecorder                       = (*effects)(nil)
)

// begin starts a sync on the calling goroutine, deferring writes or not.
func (e *effects) begin(deferring bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.caller, e.deferring, e.pending, e.dropped, e.err = goroutineID(), deferring, nil, 0, nil
	e.claims, e.claimEvents, e.claimErr, e.working = nil, 0, nil, map[uint64]int{}
}

// end stops deferring and returns what was deferred, in order (inOrder), or the misuse seen.
func (e *effects) end(set *appsv1.StatefulSet) ([]effect, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	pending, err := e.pending, e.err
	writes, claims := 0, 0
	for _, ef := range pending {
		switch ef.kind {
		case createPod, updatePod, deletePod:
			writes++
		case createClaim:
			claims++
		}
	}
	if err == nil && e.deferring && writes != e.dropped {
		err = fmt.Errorf("internal error: the StatefulSet control recorded %d pod events for %d deferred pod writes", e.dropped, writes)
	}
	if err == nil && e.deferring && claims != e.claimEvents {
		err = fmt.Errorf("internal error: the StatefulSet control recorded %d claim events for %d deferred claim creations", e.claimEvents, claims)
	}
	if e.deferring {
		// Held claims (not deferring) keep their count of events for settle's flush.
		e.claimEvents = 0
	}
	e.deferring, e.pending, e.err = false, nil, nil
	if err != nil || len(pending) == 0 {
		return nil, err
	}
	return inOrder(set, e.caller, pending)
}

// settle makes the claims still waiting for the control's next call (claims.go) and returns
// the failure of any claim creation the control did not see, or a misuse.
func (e *effects) settle() error {
	_ = e.flush()
	e.mu.Lock()
	defer e.mu.Unlock()
	err := cmp.Or(e.err, e.claimErr)
	e.err, e.claimErr = nil, nil
	return err
}

// deferred records ef and reports true while deferring; otherwise it checks that the write
// comes from the sync's goroutine.
func (e *effects) deferred(ef effect) (bool, error) {
	g := goroutineID()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.deferring {
		ef.goroutine = g
		if o, ok := ordinalOf(ef); ok {
			e.working[g] = o
		}
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
	// The pod's claims first: a pod whose claims could not be made is not created, as
	// createPersistentVolumeClaims's failure stops CreateStatefulPod.
	if err := e.flush(); err != nil {
		return err
	}
	_, err := e.m.API().Create(claimVolumesInOrder(set, pod))
	return err
}

// GetPod reads a stored pod.
func (e *effects) GetPod(namespace, name string) (*corev1.Pod, error) {
	_ = e.flush()
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
	_ = e.flush()
	_, err := e.m.API().Update(claimVolumesInOrder(set, pod))
	return err
}

// DeletePod deletes a pod through the simulated API, gracefully as a client's default delete.
func (e *effects) DeletePod(pod *corev1.Pod) error {
	if ok, err := e.deferred(effect{kind: deletePod, pod: pod.DeepCopy()}); ok || err != nil {
		return err
	}
	_ = e.flush()
	return e.m.API().Delete(e.podKind, pod.Namespace, pod.Name, metav1.DeleteOptions{})
}

// UpdateStatefulSetStatus writes a StatefulSet's status through the status subresource.
func (e *effects) UpdateStatefulSetStatus(_ context.Context, set *appsv1.StatefulSet, status *appsv1.StatefulSetStatus) error {
	if ok, err := e.deferred(effect{kind: writeStatus, set: set.DeepCopy(), status: status.DeepCopy()}); ok || err != nil {
		return err
	}
	_ = e.flush()
	next := set.DeepCopy()
	next.Status = *status
	_, err := e.m.API().UpdateStatus(next)
	return err
}

// Event records an event in the run's recorder. While deferring, the control's pod events
// are dropped (the deferred writes record their own when they are made) and any other event
// waits with the writes. The control's events for claims it created are dropped too, deferring
// or not: effects records them when it makes the claims (claims.go).
func (e *effects) Event(object k8sruntime.Object, eventType, reason, message string) {
	g := goroutineID()
	claimMade := reason == "SuccessfulCreate" && strings.HasPrefix(message, "Create Claim ")
	e.mu.Lock()
	if !e.deferring {
		if g != e.caller {
			_ = e.misuse(fmt.Errorf("internal error: the StatefulSet control recorded event %s %q from a goroutine of its own in a sync that does not defer its writes", reason, message))
			e.mu.Unlock()
			return
		}
		if claimMade {
			e.claimEvents++
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		_ = e.flush() // the claims' events come first, as the control recorded them first
		e.m.Simulator().Recorder().Event(object, eventType, reason, message)
		return
	}
	defer e.mu.Unlock()
	if claimMade {
		e.claimEvents++
		return
	}
	switch reason {
	case "SuccessfulCreate", "SuccessfulUpdate", "SuccessfulDelete":
		// What recordPodEvent says of a write that succeeded, as every deferred write does.
		e.dropped++
		return
	}
	ef := effect{kind: recordEvent, goroutine: g, regarding: object.DeepCopyObject(),
		eventType: eventType, reason: reason, message: message}
	if o, ok := e.working[g]; ok {
		ef.ordinal, ef.placed = o, true
	}
	e.pending = append(e.pending, ef)
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
// ordinal order, then over the condemned pods (fixPodClaim, then processCondemned), in
// descending ordinal order, each goroutine handling one pod. So a stretch is sorted by that
// key; each pod's effects keep their order, which is the order of the batches that made them
// as long as no two goroutines worked on one pod at once.
func inOrder(set *appsv1.StatefulSet, caller uint64, pending []effect) ([]effect, error) {
	start := 0
	if set.Spec.Ordinals != nil {
		start = int(set.Spec.Ordinals.Start)
	}
	end := start + int(*set.Spec.Replicas) - 1
	key := func(ef effect) (condemned, order int) {
		o, _ := ordinalOf(ef)
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
		// byPod is, for each ordinal, the goroutines that worked on it, in order.
		j, byPod := i, map[int][]uint64{}
		for ; j < len(out) && out[j].goroutine != caller; j++ {
			ef := out[j]
			o, ok := ordinalOf(ef)
			if !ok {
				return nil, fmt.Errorf("internal error: the StatefulSet control recorded event %s %q from a goroutine of its own, which cannot be put in order", ef.reason, ef.message)
			}
			gs := byPod[o]
			if n := len(gs); n == 0 || gs[n-1] != ef.goroutine {
				if slices.Contains(gs, ef.goroutine) {
					return nil, fmt.Errorf("internal error: two goroutines of the StatefulSet control worked on the pod of ordinal %d at once", o)
				}
				byPod[o] = append(gs, ef.goroutine)
			}
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

// ordinalOf is the ordinal of the pod an effect is about, if known.
func ordinalOf(ef effect) (int, bool) {
	switch {
	case ef.pod != nil:
		_, o := parentAndOrdinal(ef.pod)
		return o, true
	case ef.claim != nil:
		return claimOrdinal(ef.claim.Name), true
	}
	return ef.ordinal, ef.placed
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
