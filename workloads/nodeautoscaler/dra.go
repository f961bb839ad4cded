package nodeautoscaler

import (
	"context"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/dynamic-resource-allocation/resourceclaim"
	"k8s.io/dynamic-resource-allocation/structured"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/features"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/workloads/devices"
)

// draView is what the autoscalers' Filter framework sees of devices and claims: the
// scheduler's (real), changed by the snapshot being simulated. It is cluster-autoscaler's DRA
// snapshot (simulator/dynamicresources/snapshot, Snapshot as a SharedDRAManager): a template
// node has the ResourceSlices its drivers would publish (here rendered from its
// kwoksim.io/devices annotation, as for a node that exists), a pod placed in the simulation
// has its claims allocated (the DynamicResources plugin's Reserve signals the allocation
// Filter found), and a pod taken off a node releases them, so that moving it allocates them
// anew elsewhere. One per Runtime; it reads the snapshot of the decision being made.
type draView struct {
	real fwk.SharedDRAManager
	cur  *draOverlay
}

// draOverlay is one snapshot's changes: claims as the simulation has them, each with the
// stored claim it replaces, and the slices of the nodes that do not exist.
type draOverlay struct {
	// claims are the changed claims by UID; base holds what the scheduler had for each (the
	// real claim, whose devices GatherAllocatedState takes out before adding the changed
	// claim's).
	claims map[types.UID]*resourcev1.ResourceClaim
	base   map[types.UID]*resourcev1.ResourceClaim
	// slices are the ResourceSlices of template nodes, by node name.
	slices map[string][]*resourcev1.ResourceSlice
}

func newDRAOverlay() *draOverlay {
	return &draOverlay{claims: map[types.UID]*resourcev1.ResourceClaim{},
		base: map[types.UID]*resourcev1.ResourceClaim{}, slices: map[string][]*resourcev1.ResourceSlice{}}
}

// set replaces a claim in the simulation, remembering the scheduler's.
func (o *draOverlay) set(was, now *resourcev1.ResourceClaim) {
	if _, ok := o.base[now.UID]; !ok {
		o.base[now.UID] = was
	}
	o.claims[now.UID] = now
}

// addNode gives a node the slices its annotation describes, as the simulated DRA driver
// publishes them once it registers (workloads/dradriver), unless published says they are
// stored. A node that exists but whose slices are not stored yet is one created at this
// instant, whose driver's sync comes later in the same instant: kwoksim's driver publishes
// with no delay, so no real cluster-autoscaler could see that node without its devices, and
// neither may this one (it would scale up a second time for pods the node is about to take).
// A driver delay is modelled by adding the annotation later; until then the node has no
// devices here either. A value that does not parse was refused when loaded; it gives no
// devices.
func (o *draOverlay) addNode(name string, uid types.UID, annotation string, published func(driver, node string) bool) {
	sets, err := devices.Parse(annotation)
	if err != nil || len(sets) == 0 || (published != nil && published(sets[0].Driver, name)) {
		return
	}
	o.slices[name] = devices.Slices(devices.Node{Name: name, UID: uid}, sets)
}

func (v *draView) ResourceClaims() fwk.ResourceClaimTracker            { return (*draClaims)(v) }
func (v *draView) ResourceSlices() fwk.ResourceSliceLister             { return (*draSlices)(v) }
func (v *draView) DeviceClasses() fwk.DeviceClassLister                { return v.real.DeviceClasses() }
func (v *draView) DeviceClassResolver() fwk.DeviceClassResolver        { return v.real.DeviceClassResolver() }
func (v *draView) wrap(real fwk.SharedDRAManager) fwk.SharedDRAManager { v.real = real; return v }

type draSlices draView

// ListWithDeviceTaintRules is the scheduler's slices and the template nodes', those in node
// name order. DeviceTaintRules are not applied to the template nodes' slices.
func (s *draSlices) ListWithDeviceTaintRules() ([]*resourcev1.ResourceSlice, error) {
	out, err := s.real.ResourceSlices().ListWithDeviceTaintRules()
	if err != nil || s.cur == nil || len(s.cur.slices) == 0 {
		return out, err
	}
	out = slices.Clone(out)
	for _, name := range slices.Sorted(maps.Keys(s.cur.slices)) {
		out = append(out, s.cur.slices[name]...)
	}
	return out, nil
}

type draClaims draView

func (c *draClaims) List() ([]*resourcev1.ResourceClaim, error) {
	out, err := c.real.ResourceClaims().List()
	if err != nil || c.cur == nil || len(c.cur.claims) == 0 {
		return out, err
	}
	out = slices.Clone(out)
	for i, claim := range out {
		if changed := c.cur.claims[claim.UID]; changed != nil {
			out[i] = changed
		}
	}
	return out, nil
}

func (c *draClaims) Get(namespace, name string) (*resourcev1.ResourceClaim, error) {
	claim, err := c.real.ResourceClaims().Get(namespace, name)
	if err != nil || c.cur == nil {
		return claim, err
	}
	if changed := c.cur.claims[claim.UID]; changed != nil {
		return changed, nil
	}
	return claim, nil
}

// ListAllAllocatedDevices is the scheduler's set, with each changed claim's dedicated devices
// in place of its stored claim's.
func (c *draClaims) ListAllAllocatedDevices() (sets.Set[structured.DeviceID], error) {
	all, err := c.real.ResourceClaims().ListAllAllocatedDevices()
	if err != nil || c.cur == nil || len(c.cur.claims) == 0 {
		return all, err
	}
	all = all.Clone()
	consumable := utilfeature.DefaultFeatureGate.Enabled(features.DRAConsumableCapacity)
	noShare := func(structured.SharedDeviceID) {}
	noCap := func(structured.DeviceConsumedCapacity) {}
	// Every stored claim's devices out first, then the changed claims' in: a device one
	// changed claim released may be another's now.
	for uid := range c.cur.claims {
		eachAllocatedDevice(c.cur.base[uid], func(id structured.DeviceID) { all.Delete(id) }, consumable, noShare, noCap)
	}
	for _, claim := range c.cur.claims {
		eachAllocatedDevice(claim, func(id structured.DeviceID) { all.Insert(id) }, consumable, noShare, noCap)
	}
	return all, nil
}

// GatherAllocatedState is the scheduler's state (in-flight allocations included), with each
// changed claim's devices, shares and consumed capacity in place of its stored claim's.
func (c *draClaims) GatherAllocatedState() (*structured.AllocatedState, error) {
	st, err := c.real.ResourceClaims().GatherAllocatedState()
	if err != nil || c.cur == nil || len(c.cur.claims) == 0 {
		return st, err
	}
	out := &structured.AllocatedState{AllocatedDevices: st.AllocatedDevices.Clone(),
		AllocatedSharedDeviceIDs: st.AllocatedSharedDeviceIDs.Clone(), AggregatedCapacity: st.AggregatedCapacity.Clone()}
	consumable := utilfeature.DefaultFeatureGate.Enabled(features.DRAConsumableCapacity)
	for uid := range c.cur.claims { // out first, as in ListAllAllocatedDevices
		eachAllocatedDevice(c.cur.base[uid],
			func(id structured.DeviceID) { out.AllocatedDevices.Delete(id) }, consumable,
			func(id structured.SharedDeviceID) { out.AllocatedSharedDeviceIDs.Delete(id) },
			func(cc structured.DeviceConsumedCapacity) { out.AggregatedCapacity.Remove(cc) })
	}
	for _, claim := range c.cur.claims {
		eachAllocatedDevice(claim,
			func(id structured.DeviceID) { out.AllocatedDevices.Insert(id) }, consumable,
			func(id structured.SharedDeviceID) { out.AllocatedSharedDeviceIDs.Insert(id) },
			func(cc structured.DeviceConsumedCapacity) { out.AggregatedCapacity.Insert(cc) })
	}
	return out, nil
}

// SignalClaimPendingAllocation takes the allocation the DynamicResources plugin's Reserve
// found as the claim's: in the simulation, a placed pod's claims are allocated at once (what
// cluster-autoscaler's DRA snapshot does after RunReserveOnNode). Without a snapshot (no
// decision under way) nothing is recorded.
func (c *draClaims) SignalClaimPendingAllocation(uid types.UID, allocated *resourcev1.ResourceClaim) error {
	if c.cur == nil {
		return nil
	}
	was, err := c.Get(allocated.Namespace, allocated.Name)
	if err != nil {
		return err
	}
	if was.Status.Allocation != nil {
		return nil // allocated already, as the scheduler's tracker answers
	}
	c.cur.set(was, allocated.DeepCopy())
	return nil
}

// The simulation has no allocations in flight: they are the claims' at once (above), and it
// makes no API calls.
func (c *draClaims) GetPendingAllocation(types.UID) *resourcev1.AllocationResult { return nil }
func (c *draClaims) MaybeRemoveClaimPendingAllocation(types.UID, bool) bool      { return false }
func (c *draClaims) AssumeClaimAfterAPICall(*resourcev1.ResourceClaim) error     { return nil }
func (c *draClaims) AssumedClaimRestore(string, string)                          {}

// eachAllocatedDevice calls back for each device of a claim's allocation, as the scheduler
// counts them (pkg/scheduler/framework/plugins/dynamicresources/allocateddevices.go,
// foreachAllocatedDevice): admin access allocates nothing; with DRAConsumableCapacity a
// result with a share ID is a share of the device and its consumed capacity; any other
// result takes the device. A nil claim has none.
func eachAllocatedDevice(claim *resourcev1.ResourceClaim, dedicated func(structured.DeviceID), consumable bool,
	shared func(structured.SharedDeviceID), capacity func(structured.DeviceConsumedCapacity)) {
	if claim == nil || claim.Status.Allocation == nil {
		return
	}
	for _, r := range claim.Status.Allocation.Devices.Results {
		if ptr.Deref(r.AdminAccess, false) {
			continue
		}
		id := structured.MakeDeviceID(r.Driver, r.Pool, r.Device)
		if consumable && r.ShareID != nil {
			shared(structured.MakeSharedDeviceID(id, r.ShareID))
			if r.ConsumedCapacity != nil {
				capacity(structured.NewDeviceConsumedCapacity(id, r.ConsumedCapacity))
			}
			continue
		}
		dedicated(id)
	}
}

// podClaims are the pod's claims as the simulation has them; those not created yet (a
// template's, before the resource claim controller made it) are left out.
func (sn *Snapshot) podClaims(pod *corev1.Pod) []*resourcev1.ResourceClaim {
	// The view reads this snapshot's changes, on the scheduler's manager, which it has once a
	// framework was built.
	if sn.rt.dra.real == nil {
		if _, err := sn.rt.framework(pod.Spec.SchedulerName, sn); err != nil || sn.rt.dra.real == nil {
			return nil // no DRA manager: the scheduler has no claims to read
		}
	}
	sn.rt.dra.cur = sn.dra
	var out []*resourcev1.ResourceClaim
	claims := (*draClaims)(sn.rt.dra)
	for i := range pod.Spec.ResourceClaims {
		name, _, err := resourceclaim.Name(pod, &pod.Spec.ResourceClaims[i])
		if err != nil || name == nil {
			continue
		}
		if c, err := claims.Get(pod.Namespace, *name); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// allocateClaims allocates the claims of a pod placed on a node, as cluster-autoscaler's
// PredicateSnapshot.SchedulePod does with DRA on: the DynamicResources plugin's Reserve takes
// the allocation its Filter found for the node (from f, the cycle that found the pod fits
// there, or a cycle run now), and each claim reserves the pod. A pod placed where its claims
// cannot be allocated (a DaemonSet pod on a template, placed without a Filter) keeps them
// unallocated.
func (sn *Snapshot) allocateClaims(pod *corev1.Pod, node string, f *fitted) {
	if sn.ignoreClaims || len(pod.Spec.ResourceClaims) == 0 {
		return
	}
	claims := sn.podClaims(pod)
	if slices.ContainsFunc(claims, func(c *resourcev1.ResourceClaim) bool { return c.Status.Allocation == nil }) {
		var c *cycle
		if f != nil && f.pod == pod.UID && f.node == node {
			c = f.c
		} else if cc, err := sn.preFilter(pod); err == nil && cc.filter(sn.infos[node]) == nil {
			c = cc
		}
		if c == nil || c.fw.DRAReserve == nil {
			return
		}
		if st := c.fw.DRAReserve.Reserve(context.Background(), c.state, c.pod, node); !st.IsSuccess() {
			return
		}
		claims = sn.podClaims(pod)
	}
	for _, c := range claims {
		if c.Status.Allocation == nil || slices.ContainsFunc(c.Status.ReservedFor, reserves(pod)) {
			continue
		}
		now := c.DeepCopy()
		now.Status.ReservedFor = append(now.Status.ReservedFor,
			resourcev1.ResourceClaimConsumerReference{Resource: "pods", Name: pod.Name, UID: pod.UID})
		sn.dra.set(c, now)
	}
}

// releaseClaims takes a pod off its claims' reservations; a claim no other pod reserves is
// deallocated, as the resource claim controller does when its pods are gone (what
// cluster-autoscaler's DRA snapshot does to the claims of a pod it removes).
func (sn *Snapshot) releaseClaims(pod *corev1.Pod) {
	if sn.ignoreClaims || len(pod.Spec.ResourceClaims) == 0 {
		return
	}
	for _, c := range sn.podClaims(pod) {
		i := slices.IndexFunc(c.Status.ReservedFor, reserves(pod))
		if i < 0 {
			continue
		}
		now := c.DeepCopy()
		now.Status.ReservedFor = slices.Delete(now.Status.ReservedFor, i, i+1)
		if len(now.Status.ReservedFor) == 0 {
			now.Status.Allocation = nil
		}
		sn.dra.set(c, now)
	}
}

func reserves(pod *corev1.Pod) func(resourcev1.ResourceClaimConsumerReference) bool {
	return func(r resourcev1.ResourceClaimConsumerReference) bool {
		return r.Resource == "pods" && r.UID == pod.UID
	}
}
