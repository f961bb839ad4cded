package sim

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/component-helpers/resource"
	"k8s.io/dynamic-resource-allocation/resourceclaim"
	"k8s.io/dynamic-resource-allocation/structured"
	fwk "k8s.io/kube-scheduler/framework"
	v1helper "k8s.io/kubernetes/pkg/apis/core/v1/helper"
	"k8s.io/kubernetes/pkg/scheduler"
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"
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

// draAnswer is the plugin's answer for a shape of claims on a node, with what it depended on.
type draAnswer struct {
	node          *corev1.Node
	slices        []*resourceapi.ResourceSlice
	poolVersions  []uint64
	sharedVersion uint64
	code          fwk.Code
	reasons       []string
}

type draPoolID struct{ driver, pool string }

// draPoolRecord is the allocated state of a pool when last seen, and a version that changes
// whenever it does.
type draPoolRecord struct {
	entries []draPoolEntry
	version uint64
}

// draPoolEntry is one allocated device of a pool: allocated whole (the rest empty), one
// share of a shared device, or the capacity its shares consume (one integer capacity by name
// and value; several, or a fraction, written out in capacityName with capacity -1).
type draPoolEntry struct {
	device, share, capacityName string
	capacity                    int64
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

// refresh reads the slices, classes and allocated state the plugin's PreFilter reads, and
// moves the versions of what changed. It reports false when one cannot be read (the plugin
// then answers alone, and says why).
func (c *draFilterCache) refresh() bool {
	dra := c.handle.SharedDRAManager()
	all, err := dra.ResourceSlices().ListWithDeviceTaintRules()
	if err != nil {
		return false
	}
	classes, err := dra.DeviceClasses().List()
	if err != nil {
		return false
	}
	state, err := dra.ResourceClaims().GatherAllocatedState()
	if err != nil || state == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.indexSlices(all)
	slices.SortFunc(classes, func(a, b *resourceapi.DeviceClass) int { return strings.Compare(a.Name, b.Name) })
	if !slices.Equal(classes, c.classes) {
		c.classes = classes
		c.sharedVersion = c.next()
	}
	c.updatePools(state)
	return true
}

// indexSlices sorts the slices by node. The lister's order is its store's (map order), so
// each node's are sorted by name to be compared.
func (c *draFilterCache) indexSlices(all []*resourceapi.ResourceSlice) {
	for node, s := range c.nodeSlices {
		c.nodeSlices[node] = s[:0]
	}
	var shared []*resourceapi.ResourceSlice
	for _, s := range all {
		if s.Spec.NodeName != nil && *s.Spec.NodeName != "" {
			c.nodeSlices[*s.Spec.NodeName] = append(c.nodeSlices[*s.Spec.NodeName], s)
		} else {
			shared = append(shared, s)
		}
	}
	byName := func(a, b *resourceapi.ResourceSlice) int { return strings.Compare(a.Name, b.Name) }
	for node, s := range c.nodeSlices {
		switch len(s) {
		case 0:
			delete(c.nodeSlices, node)
		case 1:
		default:
			slices.SortFunc(s, byName)
		}
	}
	slices.SortFunc(shared, byName)
	if !slices.Equal(shared, c.shared) {
		c.shared = shared
		c.sharedPools = map[draPoolID]bool{}
		for _, s := range shared {
			c.sharedPools[draPoolID{s.Spec.Driver, s.Spec.Pool.Name}] = true
		}
		c.sharedVersion = c.next()
	}
}

// updatePools compares each pool's allocated devices, shares and consumed capacity with what
// they were, and gives the pools that changed a new version. The versions' values never show:
// they are only compared for equality. It runs for every pod with claims, over every
// allocation in the cluster, so it reuses its scratch lists and keeps a copy only of a pool
// that changed.
func (c *draFilterCache) updatePools(state *structured.AllocatedState) {
	for id, entries := range c.scratch {
		c.scratch[id] = entries[:0]
	}
	add := func(d structured.DeviceID, e draPoolEntry) {
		id := draPoolID{d.Driver.String(), d.Pool.String()}
		e.device = d.Device.String()
		c.scratch[id] = append(c.scratch[id], e)
	}
	for d := range state.AllocatedDevices {
		add(d, draPoolEntry{})
	}
	for d := range state.AllocatedSharedDeviceIDs {
		add(d.GetDeviceID(), draPoolEntry{share: d.ShareID.String()})
	}
	for d, consumed := range state.AggregatedCapacity {
		add(d, consumedEntry(consumed))
	}
	for id, entries := range c.scratch {
		slices.SortFunc(entries, compareEntries)
		rec := c.pools[id]
		if rec == nil {
			if len(entries) == 0 {
				continue
			}
			rec = &draPoolRecord{}
			c.pools[id] = rec
		}
		if slices.Equal(rec.entries, entries) {
			continue
		}
		rec.entries = slices.Clone(entries)
		rec.version = c.next()
		if c.sharedPools[id] {
			c.sharedVersion = c.next()
		}
	}
}

// consumedEntry is a device's consumed capacity as an entry: one integer capacity (a share's
// gpu-milli) without allocating, anything else as text.
func consumedEntry(consumed map[resourceapi.QualifiedName]*apiresource.Quantity) draPoolEntry {
	if len(consumed) == 1 {
		for name, q := range consumed {
			if q == nil {
				break
			}
			if v, ok := q.AsInt64(); ok {
				return draPoolEntry{capacityName: string(name), capacity: v}
			}
		}
	}
	var parts []string
	for name, q := range consumed {
		if q != nil {
			parts = append(parts, string(name)+"="+q.String())
		}
	}
	slices.Sort(parts)
	return draPoolEntry{capacityName: strings.Join(parts, ","), capacity: -1}
}

func compareEntries(a, b draPoolEntry) int {
	if d := strings.Compare(a.device, b.device); d != 0 {
		return d
	}
	if d := strings.Compare(a.share, b.share); d != 0 {
		return d
	}
	if d := strings.Compare(a.capacityName, b.capacityName); d != 0 {
		return d
	}
	return cmp.Compare(a.capacity, b.capacity)
}

func (c *draFilterCache) next() uint64 {
	c.version++
	return c.version
}

// holds reports whether an answer still applies to the node: the same node object, the same
// slices, the same allocated state in their pools, and no change to what all nodes share.
// The caller holds c.mu.
func (c *draFilterCache) holds(a *draAnswer, node *corev1.Node) bool {
	if a.node != node || a.sharedVersion != c.sharedVersion {
		return false
	}
	now := c.nodeSlices[node.Name]
	if !slices.Equal(a.slices, now) {
		return false
	}
	for i, s := range now {
		if c.poolVersion(s) != a.poolVersions[i] {
			return false
		}
	}
	return true
}

func (c *draFilterCache) poolVersion(s *resourceapi.ResourceSlice) uint64 {
	if rec := c.pools[draPoolID{s.Spec.Driver, s.Spec.Pool.Name}]; rec != nil {
		return rec.version
	}
	return 0
}

// answerFor records an answer with what it depends on now. The caller holds c.mu.
func (c *draFilterCache) answerFor(node *corev1.Node, code fwk.Code, reasons []string) *draAnswer {
	now := c.nodeSlices[node.Name]
	a := &draAnswer{node: node, slices: slices.Clone(now), sharedVersion: c.sharedVersion, code: code,
		reasons: slices.Clone(reasons), poolVersions: make([]uint64, len(now))}
	for i, s := range now {
		a.poolVersions[i] = c.poolVersion(s)
	}
	return a
}

// useDRAFilterCache puts the cache in DynamicResources' place at the Filter extension point
// of a defaulted profile, just before it in MultiPoint (so its PreFilter runs just before the
// plugin's, its Filter where the plugin's ran, its Reserve just before the plugin's). A
// profile that names DynamicResources anywhere but MultiPoint's enabled list, or disables
// every plugin of an extension point, is left as it is: the plugin then filters alone.
func useDRAFilterCache(p *schedulerapi.KubeSchedulerProfile) bool {
	if p.Plugins == nil {
		return false
	}
	at := -1
	for i, pl := range p.Plugins.MultiPoint.Enabled {
		if pl.Name == names.DynamicResources {
			at = i
		}
	}
	if at < 0 {
		return false
	}
	for _, set := range pluginSets(p.Plugins) {
		for _, pl := range set.Disabled {
			if pl.Name == names.DynamicResources || pl.Name == "*" {
				return false
			}
		}
		if set == &p.Plugins.MultiPoint {
			continue
		}
		for _, pl := range set.Enabled {
			if pl.Name == names.DynamicResources {
				return false
			}
		}
	}
	p.Plugins.MultiPoint.Enabled = slices.Insert(p.Plugins.MultiPoint.Enabled, at, schedulerapi.Plugin{Name: draFilterCacheName})
	p.Plugins.Filter.Disabled = append(p.Plugins.Filter.Disabled, schedulerapi.Plugin{Name: names.DynamicResources})
	return true
}

// wireDRAFilterCaches gives each profile's cache the profile's DynamicResources plugin.
func wireDRAFilterCaches(sched *scheduler.Scheduler) ([]*draFilterCache, error) {
	var caches []*draFilterCache
	for _, name := range slices.Sorted(maps.Keys(sched.Profiles)) {
		var cache *draFilterCache
		var plugin *dynamicresources.DynamicResources
		for _, ext := range sched.Profiles[name].EnqueueExtensions() {
			switch p := ext.(type) {
			case *draFilterCache:
				cache = p
			case *dynamicresources.DynamicResources:
				plugin = p
			}
		}
		if cache == nil {
			continue
		}
		if plugin == nil {
			return nil, fmt.Errorf("scheduler profile %q has the DynamicResources filter cache but not the plugin", name)
		}
		cache.inner = plugin
		caches = append(caches, cache)
	}
	return caches, nil
}
