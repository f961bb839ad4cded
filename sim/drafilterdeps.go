package sim

import (
	"cmp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/dynamic-resource-allocation/structured"
	fwk "k8s.io/kube-scheduler/framework"
)

// What an answer of the DynamicResources filter cache (drafiltercache.go) depends on, and how
// the cache tells that it is unchanged.

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
