package nodeautoscaler

import (
	"cmp"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

// deviceUtilization is the utilization cluster-autoscaler gives a node with ResourceSlices in
// place of its CPU and memory (simulator/utilization/info.go, Calculate with DRA on;
// simulator/dynamicresources/utils/utilization.go, HighestDynamicResourceUtilization): per
// driver and pool of the node's slices, poolUtilization of the devices the claims of the
// node's pods hold (a shared device counts once, however many shares); the highest, named
// driver/pool. ok is false for a node without slices.
func (sn *Snapshot) deviceUtilization(node string) (name corev1.ResourceName, util float64, ok bool) {
	own := sn.nodeSlices(node)
	if len(own) == 0 {
		return "", 0, false
	}
	type pool struct{ driver, name string }
	slicesOf := map[pool][]*resourcev1.ResourceSlice{}
	for _, s := range own {
		k := pool{s.Spec.Driver, s.Spec.Pool.Name}
		slicesOf[k] = append(slicesOf[k], s)
	}
	held := map[pool]map[string]bool{}
	for _, p := range sn.pods[node] {
		for _, c := range sn.podClaims(p) {
			if c.Status.Allocation == nil {
				continue
			}
			for _, r := range c.Status.Allocation.Devices.Results {
				if ptr.Deref(r.AdminAccess, false) {
					continue // admin access reserves nothing (groupAllocatedReservedDevices)
				}
				k := pool{r.Driver, r.Pool}
				if held[k] == nil {
					held[k] = map[string]bool{}
				}
				held[k][r.Device] = true
			}
		}
	}
	// In driver and pool order; on a tie the last wins (upstream ranges over a map).
	byName := func(a, b pool) int { return cmp.Or(cmp.Compare(a.driver, b.driver), cmp.Compare(a.name, b.name)) }
	for _, k := range slices.SortedFunc(maps.Keys(slicesOf), byName) {
		if u := poolUtilization(slicesOf[k], held[k]); u >= util {
			util, name = u, corev1.ResourceName(k.driver+"/"+k.name)
		}
	}
	return name, util, true
}

// poolUtilization is a pool's utilization as upstream's calculatePoolUtil computes it: the
// share of its atomic devices (those that consume no shared counters) held; for partitionable
// devices, per counter set, the most used of its counters by the held devices, averaged over
// the counter sets the devices consume; with both kinds held, the two weighed by how many
// devices (counter sets, for the partitionable ones) each kind has.
func poolUtilization(pool []*resourcev1.ResourceSlice, held map[string]bool) float64 {
	var counters []resourcev1.CounterSet
	var atomic, heldAtomic int
	var partitionable, heldPartitionable []resourcev1.Device
	for _, s := range pool {
		counters = append(counters, s.Spec.SharedCounters...)
		for _, d := range s.Spec.Devices {
			switch {
			case len(d.ConsumesCounters) == 0:
				atomic++
				if held[d.Name] {
					heldAtomic++
				}
			default:
				partitionable = append(partitionable, d)
				if held[d.Name] {
					heldPartitionable = append(heldPartitionable, d)
				}
			}
		}
	}
	atomicUtil := 0.0
	if atomic > 0 {
		atomicUtil = float64(heldAtomic) / float64(atomic)
	}
	if len(heldPartitionable) == 0 {
		return atomicUtil
	}
	partUtil := partitionableUtilization(heldPartitionable, partitionable, counters)
	if heldAtomic == 0 {
		return partUtil
	}
	sets := float64(len(counterSetsOf(partitionable)))
	total := sets + float64(atomic)
	return partUtil*sets/total + atomicUtil*float64(atomic)/total
}

// partitionableUtilization is upstream's calculatePartitionableDevicesPoolUtilization: for
// each counter set of the pool's slices, the highest of its counters' use by the held
// devices (Value over Value, as upstream divides), over the number of counter sets the
// pool's partitionable devices consume, summed.
func partitionableUtilization(held, all []resourcev1.Device, counters []resourcev1.CounterSet) float64 {
	unique := len(counterSetsOf(all))
	if unique == 0 {
		return 0
	}
	available := map[string]map[string]resource.Quantity{}
	for _, cs := range counters {
		addCounters(available, cs.Name, cs.Counters)
	}
	used := map[string]map[string]resource.Quantity{}
	for _, d := range held {
		for _, c := range d.ConsumesCounters {
			addCounters(used, c.CounterSet, c.Counters)
		}
	}
	util := 0.0
	for _, set := range slices.Sorted(maps.Keys(available)) {
		highest := 0.0
		for _, name := range slices.Sorted(maps.Keys(available[set])) {
			total := available[set][name]
			if total.IsZero() {
				continue
			}
			if u, ok := used[set][name]; ok {
				highest = max(highest, float64(u.Value())/float64(total.Value()))
			}
		}
		util += highest / float64(unique)
	}
	return util
}

// addCounters adds counters to a counter set's sums.
func addCounters(to map[string]map[string]resource.Quantity, set string, counters map[string]resourcev1.Counter) {
	if to[set] == nil {
		to[set] = map[string]resource.Quantity{}
	}
	for name, c := range counters {
		q := to[set][name]
		q.Add(c.Value)
		to[set][name] = q
	}
}

// counterSetsOf are the counter sets the devices consume, each once: upstream counts a
// partitionable device by its counter sets, so that the partitions of one GPU are one GPU.
func counterSetsOf(devices []resourcev1.Device) map[string]bool {
	out := map[string]bool{}
	for _, d := range devices {
		for _, c := range d.ConsumesCounters {
			out[c.CounterSet] = true
		}
	}
	return out
}

// nodeSlices are the ResourceSlices of a node: the overlay's for a node that does not exist
// or whose driver has not published (dra.go, addNode), else those stored.
func (sn *Snapshot) nodeSlices(node string) []*resourcev1.ResourceSlice {
	if s := sn.dra.slices[node]; s != nil {
		return s
	}
	return sn.storedSlices(node)
}

// published is whether a driver has stored slices for a node.
func (sn *Snapshot) published(driver, node string) bool {
	return slices.ContainsFunc(sn.storedSlices(node), func(s *resourcev1.ResourceSlice) bool { return s.Spec.Driver == driver })
}

// storedSlices are the stored ResourceSlices of a node, indexed by node once per snapshot from
// the API's shared objects (no copies: the index is read, never written).
func (sn *Snapshot) storedSlices(node string) []*resourcev1.ResourceSlice {
	if sn.sliceIndex == nil {
		sn.sliceIndex = map[string][]*resourcev1.ResourceSlice{}
		objs, err := sn.rt.api.ListShared(sn.rt.sliceKind)
		if err != nil {
			return nil
		}
		for _, o := range objs {
			s := o.(*resourcev1.ResourceSlice)
			if n := ptr.Deref(s.Spec.NodeName, ""); n != "" {
				sn.sliceIndex[n] = append(sn.sliceIndex[n], s)
			}
		}
	}
	return sn.sliceIndex[node]
}
