package sim

import (
	"fmt"

	"github.com/google/uuid"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	resourcev1 "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
)

// Independent RNG streams drawn from the run's seed, one per purpose, so that a change in how
// often one consumer draws does not shift what another one gets.
const (
	streamAPI uint64 = iota + 1
	streamStages
	streamWorkloads
	streamPreemption
	streamBootstrap
)

// react routes the scheduler's writes through the fake clientset into the API layer, so they
// get the same treatment as the simulator's own writes. Reads fall through to the tracker.
// Every write checks the Watcher rule before taking the API's lock: Create, Bind and Delete
// in the API methods they call, Update and Patch here (see API.watcherWrote).
func (a *API) react(action k8stesting.Action) (bool, runtime.Object, error) {
	k := kindForResource(action.GetResource().Resource)
	if k == nil {
		return false, nil, nil
	}
	// Dispatch on the verb: CreateAction and UpdateAction have the same method set, so a type
	// switch would take every update for a create.
	switch action.GetVerb() {
	case "create":
		act, ok := action.(k8stesting.CreateAction)
		if !ok {
			return false, nil, nil
		}
		if act.GetSubresource() == "binding" {
			b, ok := act.GetObject().(*corev1.Binding)
			if !ok {
				return false, nil, nil
			}
			b = b.DeepCopy()
			if b.Namespace == "" {
				b.Namespace = act.GetNamespace()
			}
			return true, nil, a.Bind(b)
		}
		if act.GetSubresource() == "eviction" {
			ev, err := evictionFrom(act.GetObject())
			if err != nil {
				return true, nil, err
			}
			if ev.Namespace == "" {
				ev.Namespace = act.GetNamespace()
			}
			return true, nil, a.Evict(ev)
		}
		if act.GetSubresource() != "" {
			return false, nil, nil
		}
		obj, err := a.Create(act.GetObject())
		return true, obj, err
	case "update":
		act, ok := action.(k8stesting.UpdateAction)
		if !ok {
			return false, nil, nil
		}
		m, err := meta.Accessor(act.GetObject())
		if err != nil {
			return true, nil, err
		}
		if a.watching.Load() {
			return true, nil, a.watcherWrote("Update", k, m.GetNamespace(), m.GetName())
		}
		var obj runtime.Object
		a.asClient(func() { obj, err = a.updateLocked(k, m, act.GetObject(), act.GetSubresource()) })
		return true, obj, err
	case "patch":
		act, ok := action.(k8stesting.PatchAction)
		if !ok {
			return false, nil, nil
		}
		if a.watching.Load() {
			return true, nil, a.watcherWrote("Patch", k, act.GetNamespace(), act.GetName())
		}
		var obj runtime.Object
		var err error
		a.asClient(func() {
			obj, err = a.patchLocked(k, act.GetNamespace(), act.GetName(), act.GetPatchType(), act.GetPatch(), act.GetSubresource())
		})
		return true, obj, err
	case "delete":
		act, ok := action.(k8stesting.DeleteAction)
		if !ok {
			return false, nil, nil
		}
		opts := act.GetDeleteOptions()
		return true, nil, a.Delete(k, act.GetNamespace(), act.GetName(), *opts.DeepCopy())
	}
	return false, nil, nil
}

// evictionFrom takes a policy/v1 or v1beta1 Eviction (kube-apiserver accepts both); the two
// versions have the same fields.
func evictionFrom(obj runtime.Object) (*policyv1.Eviction, error) {
	switch ev := obj.(type) {
	case *policyv1.Eviction:
		return ev.DeepCopy(), nil
	case *policyv1beta1.Eviction:
		out := &policyv1.Eviction{ObjectMeta: *ev.ObjectMeta.DeepCopy()}
		if ev.DeleteOptions != nil {
			out.DeleteOptions = ev.DeleteOptions.DeepCopy()
		}
		return out, nil
	}
	return nil, apierrors.NewBadRequest(fmt.Sprintf("not a Eviction object: %T", obj))
}

func kindForResource(resource string) *Kind {
	for _, k := range kinds {
		if k.GVR.Resource == resource {
			return k
		}
	}
	return nil
}

// asClient serves one write made through the fake clientset, holding the API's lock.
func (a *API) asClient(write func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.clientWrite = true
	defer func() { a.clientWrite = false }()
	write()
}

// virtualizeConditionTimes puts the virtual time on the pod conditions a client write changed.
// The scheduler's status updates stamp a changed condition with metav1.Now() (podutil's
// UpdatePodCondition), the wall clock, which would make stored objects, and every stage or
// report that reads them, differ from run to run. A condition whose lastTransitionTime the
// write left as stored keeps it.
func virtualizeConditionTimes(cur, next runtime.Object, now metav1.Time) {
	virtualizeAllocationTime(cur, next, now)
	deriveShareIDs(cur, next)
	c, ok := cur.(*corev1.Pod)
	n, ok2 := next.(*corev1.Pod)
	if !ok || !ok2 {
		return
	}
	stored := map[corev1.PodConditionType]metav1.Time{}
	for _, cond := range c.Status.Conditions {
		stored[cond.Type] = cond.LastTransitionTime
	}
	for i := range n.Status.Conditions {
		cond := &n.Status.Conditions[i]
		if t, ok := stored[cond.Type]; ok && t.Equal(&cond.LastTransitionTime) {
			continue
		}
		if !cond.LastTransitionTime.IsZero() {
			cond.LastTransitionTime = now
		}
	}
}

// virtualizeAllocationTime puts the virtual time on a claim's allocation timestamp the write
// set: the DynamicResources plugin's PreBind stamps status.allocation.allocationTimestamp with
// time.Now() (DRADeviceBindingConditions, beta, on in v1.37), the wall clock.
func virtualizeAllocationTime(cur, next runtime.Object, now metav1.Time) {
	c, ok := cur.(*resourcev1.ResourceClaim)
	n, ok2 := next.(*resourcev1.ResourceClaim)
	if !ok || !ok2 || n.Status.Allocation == nil || n.Status.Allocation.AllocationTimestamp == nil {
		return
	}
	if c.Status.Allocation != nil && c.Status.Allocation.AllocationTimestamp != nil &&
		c.Status.Allocation.AllocationTimestamp.Equal(n.Status.Allocation.AllocationTimestamp) {
		return
	}
	n.Status.Allocation.AllocationTimestamp = &now
}

// deriveShareIDs replaces the share IDs a write gave a claim's results with IDs derived from
// the claim's UID and the result's index. The allocator gives each allocation of a device that
// allows multiple allocations (DRAConsumableCapacity) a fresh random UUID (GenerateShareID in
// k8s.io/dynamic-resource-allocation/structured/internal/allocatedstate.go, uuid.NewUUID),
// which would make the stored claim, and --state-out, differ from run to run. Its only use is
// to tell apart the shares of one device (structured.MakeSharedDeviceID), for which the
// derived ID serves as well: a claim's results are distinct, and a claim holds one allocation
// at a time. A result whose share ID the write left as stored keeps it.
func deriveShareIDs(cur, next runtime.Object) {
	c, ok := cur.(*resourcev1.ResourceClaim)
	n, ok2 := next.(*resourcev1.ResourceClaim)
	if !ok || !ok2 || n.Status.Allocation == nil {
		return
	}
	var stored []resourcev1.DeviceRequestAllocationResult
	if c.Status.Allocation != nil {
		stored = c.Status.Allocation.Devices.Results
	}
	for i := range n.Status.Allocation.Devices.Results {
		r := &n.Status.Allocation.Devices.Results[i]
		if r.ShareID == nil {
			continue
		}
		if i < len(stored) && stored[i].ShareID != nil && *stored[i].ShareID == *r.ShareID {
			continue
		}
		id := shareID(n.UID, i)
		r.ShareID = &id
	}
}

// shareID is a name-based (version 5) UUID of a claim's UID and a result's index.
func shareID(claim types.UID, result int) types.UID {
	return types.UID(uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "kwoksim.io/share/%s/%d", claim, result)).String())
}
