package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/component-helpers/resource"
	"k8s.io/dynamic-resource-allocation/resourceclaim"
	fwk "k8s.io/kube-scheduler/framework"
	v1helper "k8s.io/kubernetes/pkg/apis/core/v1/helper"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/dynamicresources"
	plfeature "k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/names"
)

// The DynamicResources plugin's Filter runs the structured allocator on every node the
// scheduler checks: for a pod with a claim, about 580 allocator runs in a cluster of 1,500
// nodes, nearly all of them answering what they answered for the previous pod of the same
// shape, on a node whose devices have not changed since. In a real cluster the cost is spread
// over 16 filter goroutines; kwoksim filters serially (parallelism 1, for reproducible
// placements), so it is the plugin's cost that decides how long a device trace takes to
// replay: without this cache the openb replay per card takes four times as long as the
// pooled one, three quarters of it in this Filter.
//
// draFilterCache remembers the plugin's answers. Filter's answer for a node is a function of:
//
//   - the pod's claims, as far as the allocator reads them: their specs (the allocator reads
//     nothing else of a claim but its name, for an error message; errors are not kept);
//   - the node object (the slices whose node selector it matches, its declared features);
//   - the ResourceSlices the node sees, as the plugin lists them (ListWithDeviceTaintRules:
//     device taints applied) and the DeviceClasses;
//   - the allocated state (GatherAllocatedState) of the pools of those slices: the devices
//     allocated, the shares of shared devices, their consumed capacity;
//   - the feature gates, which are fixed for the process.
//
// An answer is kept with all of these and given again only while every one is unchanged: the
// node object and the slices compared by identity (the scheduler's caches replace an object
// when it changes, never mutate it), the allocated state of each pool compared by content.
// It answers the same as the plugin would, so the placements are the plugin's; the tests run
// device workloads with the cache and without it and compare every placement, and the openb
// per-card replay gives the same report with and without it (see the README's performance
// section).
//
// What Filter leaves in the cycle's state for the node it succeeded on (the allocation that
// Reserve writes) is rebuilt by running the real Filter on the chosen node in the cache's
// Reserve, which runs just before DynamicResources' Reserve. The plugin's Score reads the same
// state, and scores only claims with prioritized lists (DRAPrioritizedList), whose pods the
// cache leaves to the plugin; for every other claim the score is 0 with or without it.
//
// The cache takes DynamicResources' place at the Filter extension point only, under the
// plugin's own Name(), so statuses, the fit error's plugins and queueing hints read exactly
// as the plugin's; DynamicResources keeps every other extension point. It leaves to the plugin
// (passes through) every pod it cannot key exactly: claims already allocated or being
// allocated, prioritized lists, admin access, extended resources (DRAExtendedResource may
// turn them into a claim per node), pod groups, a pod whose resize is deferred, and the
// filter runs of a cloned cycle state (preemption's dry runs, nominated pods).
const draFilterCacheName = "KwoksimDynamicResourcesFilterCache"

// draCycleKey is where the cache keeps its per-cycle state in the CycleState.
const draCycleKey fwk.StateKey = "kwoksim.io/" + draFilterCacheName

// draCacheLimit bounds the answers kept; past it the cache starts again. A shape of claim
// costs one answer per node, so this is about 600 shapes in a cluster of 1,500 nodes.
const draCacheLimit = 1 << 20

// draShapeLimit bounds the shapes of claims numbered (a workload whose every claim differs,
// in an opaque configuration for instance, makes one per pod).
const draShapeLimit = 1 << 14

type draFilterCache struct {
	handle fwk.Handle
	// inner is the profile's DynamicResources plugin, set by wireDRAFilterCaches once the
	// scheduler is built (the framework builds its plugins in map order).
	inner *dynamicresources.DynamicResources
	// exact is false when a gate makes Filter read more than the cache keys:
	// DRANodeAllocatableResources reads the node's pods.
	exact bool
	// deferResize is the plugin's gate for skipping pods whose resize is deferred.
	deferResize bool

	mu      sync.Mutex
	answers map[draAnswerKey]*draAnswer
	shapes  map[string]int
	pools   map[draPoolID]*draPoolRecord
	scratch map[draPoolID][]draPoolEntry
	version uint64
	// nodeSlices are the slices of each node (spec.nodeName), sorted by name; shared are
	// the others (node selectors, all nodes, per-device node selection), sharedPools their
	// pools. sharedVersion changes whenever the shared slices, the DeviceClasses or the
	// allocated state of a shared pool do.
	nodeSlices    map[string][]*resourceapi.ResourceSlice
	shared        []*resourceapi.ResourceSlice
	sharedPools   map[draPoolID]bool
	classes       []*resourceapi.DeviceClass
	sharedVersion uint64
	hits, misses  int
}

type draAnswerKey struct {
	shape int
	node  string
}

// draCycle is the cache's state for one scheduling cycle.
type draCycle struct {
	// shape identifies the pod's claims.
	shape int
	// cloned is set on the copies preemption and nominated pods filter with.
	cloned bool
	mu     sync.Mutex
	// fromCache are the nodes whose success the cache gave without running the plugin.
	fromCache map[string]bool
}

func (c *draCycle) Clone() fwk.StateData { return &draCycle{cloned: true} }

func newDRAFilterCache(_ context.Context, _ runtime.Object, fh fwk.Handle) (fwk.Plugin, error) {
	fts := plfeature.NewSchedulerFeaturesFromGates(utilfeature.DefaultFeatureGate)
	return &draFilterCache{
		handle:      fh,
		exact:       !fts.EnableDRANodeAllocatableResources,
		deferResize: fts.EnableInPlacePodVerticalScalingSchedulerPreemption,
		answers:     map[draAnswerKey]*draAnswer{},
		shapes:      map[string]int{},
		pools:       map[draPoolID]*draPoolRecord{},
		scratch:     map[draPoolID][]draPoolEntry{},
		nodeSlices:  map[string][]*resourceapi.ResourceSlice{},
	}, nil
}

// Name is the plugin's: see the type's comment.
func (c *draFilterCache) Name() string { return names.DynamicResources }

// EventsToRegister registers nothing: the plugin registers its events under the same name.
func (c *draFilterCache) EventsToRegister(context.Context) ([]fwk.ClusterEventWithHint, error) {
	return nil, nil
}

// SignPod signs as the plugin does (it refuses pods with claims).
func (c *draFilterCache) SignPod(ctx context.Context, pod *corev1.Pod) ([]fwk.SignFragment, *fwk.Status) {
	return c.inner.SignPod(ctx, pod)
}

// PreFilter runs just before the plugin's and never rejects: it keys the pod's claims and
// reads what the plugin's PreFilter is about to read (nothing changes in between: the cycle
// runs alone).
func (c *draFilterCache) PreFilter(_ context.Context, cs fwk.CycleState, pod *corev1.Pod, _ []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	// A cycle without the cache's state is left to the plugin.
	if !c.exact || len(pod.Spec.ResourceClaims) == 0 || cs.GetPodGroupSchedulingCycle() != nil ||
		(c.deferResize && resource.IsPodResizeDeferred(pod)) || requestsExtendedResources(pod) {
		return nil, nil
	}
	shape, ok := c.claimsShape(pod)
	if !ok || !c.refresh() {
		return nil, nil
	}
	c.mu.Lock()
	id, ok := c.shapes[shape]
	if !ok {
		if len(c.shapes) >= draShapeLimit {
			// Shapes are numbered from 1 again, so no answer may outlive its number.
			clear(c.shapes)
			clear(c.answers)
		}
		id = len(c.shapes) + 1
		c.shapes[shape] = id
	}
	c.mu.Unlock()
	cs.Write(draCycleKey, &draCycle{shape: id})
	return nil, nil
}

func (c *draFilterCache) PreFilterExtensions() fwk.PreFilterExtensions { return nil }

// Filter gives the plugin's answer for the node, from the cache when nothing it depends on
// has changed since the plugin gave it.
func (c *draFilterCache) Filter(ctx context.Context, cs fwk.CycleState, pod *corev1.Pod, nodeInfo fwk.NodeInfo) *fwk.Status {
	cycle := readDRACycle(cs)
	if cycle == nil || cycle.cloned {
		return c.inner.Filter(ctx, cs, pod, nodeInfo)
	}
	node := nodeInfo.Node()
	key := draAnswerKey{shape: cycle.shape, node: node.Name}
	c.mu.Lock()
	a := c.answers[key]
	if a != nil && c.holds(a, node) {
		c.hits++
		c.mu.Unlock()
		if a.code == fwk.Success {
			cycle.mu.Lock()
			if cycle.fromCache == nil {
				cycle.fromCache = map[string]bool{}
			}
			cycle.fromCache[node.Name] = true
			cycle.mu.Unlock()
			return nil
		}
		return fwk.NewStatus(a.code, a.reasons...)
	}
	c.misses++
	c.mu.Unlock()
	status := c.inner.Filter(ctx, cs, pod, nodeInfo)
	code := status.Code()
	// An error, a timeout and a cancelled context are not answers about the node.
	if ctx.Err() != nil || (code != fwk.Success && code != fwk.Unschedulable && code != fwk.UnschedulableAndUnresolvable) {
		return status
	}
	c.mu.Lock()
	if len(c.answers) >= draCacheLimit {
		clear(c.answers)
	}
	var reasons []string
	if status != nil {
		reasons = status.Reasons()
	}
	c.answers[key] = c.answerFor(node, code, reasons)
	c.mu.Unlock()
	return status
}

// Reserve runs the plugin's Filter on the chosen node when the cache gave its answer, so that
// the plugin's Reserve, next, finds the allocation its Filter leaves in the cycle's state.
func (c *draFilterCache) Reserve(ctx context.Context, cs fwk.CycleState, pod *corev1.Pod, nodeName string) *fwk.Status {
	cycle := readDRACycle(cs)
	if cycle == nil {
		return nil
	}
	cycle.mu.Lock()
	cached := cycle.fromCache[nodeName]
	delete(cycle.fromCache, nodeName)
	cycle.mu.Unlock()
	if !cached {
		return nil
	}
	nodeInfo, err := c.handle.SnapshotSharedLister().NodeInfos().Get(nodeName)
	if err != nil {
		return fwk.AsStatus(err)
	}
	if s := c.inner.Filter(ctx, cs, pod, nodeInfo); !s.IsSuccess() {
		return fwk.AsStatus(fmt.Errorf("kwoksim's DynamicResources filter cache: the plugin's Filter refuses node %s, for which the cache gave its earlier success: %v", nodeName, s.AsError()))
	}
	return nil
}

func (c *draFilterCache) Unreserve(context.Context, fwk.CycleState, *corev1.Pod, string) {}

func readDRACycle(cs fwk.CycleState) *draCycle {
	d, err := cs.Read(draCycleKey)
	if err != nil {
		return nil
	}
	cycle, _ := d.(*draCycle)
	return cycle
}

// claimsShape is the specs of the pod's claims, in the plugin's order
// (foreachPodResourceClaim), when the cache can key them: each exists, is neither allocated
// nor being allocated, and asks only for exact requests without admin access.
func (c *draFilterCache) claimsShape(pod *corev1.Pod) (string, bool) {
	tracker := c.handle.SharedDRAManager().ResourceClaims()
	var b strings.Builder
	for i := range pod.Spec.ResourceClaims {
		name, _, err := resourceclaim.Name(pod, &pod.Spec.ResourceClaims[i])
		if err != nil {
			return "", false
		}
		if name == nil {
			continue
		}
		claim, err := tracker.Get(pod.Namespace, *name)
		if err != nil || claim.Status.Allocation != nil || tracker.GetPendingAllocation(claim.UID) != nil {
			return "", false
		}
		for _, r := range claim.Spec.Devices.Requests {
			if r.Exactly == nil || (r.Exactly.AdminAccess != nil && *r.Exactly.AdminAccess) {
				return "", false
			}
		}
		spec, err := json.Marshal(&claim.Spec)
		if err != nil {
			return "", false
		}
		b.Write(spec)
		b.WriteByte('\n')
	}
	return b.String(), b.Len() > 0
}

// requestsExtendedResources reports whether a container or the pod asks for an extended
// resource, which DRAExtendedResource may satisfy with a claim made for each node.
func requestsExtendedResources(pod *corev1.Pod) bool {
	extended := func(rl corev1.ResourceList) bool {
		for name := range rl {
			if v1helper.IsExtendedResourceName(name) {
				return true
			}
		}
		return false
	}
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if extended(list[i].Resources.Requests) || extended(list[i].Resources.Limits) {
				return true
			}
		}
	}
	return pod.Spec.Resources != nil && (extended(pod.Spec.Resources.Requests) || extended(pod.Spec.Resources.Limits))
}
