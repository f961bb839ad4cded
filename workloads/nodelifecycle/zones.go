package nodelifecycle

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// zoneState is the real controller's ZoneState.
type zoneState string

const (
	stateInitial           = zoneState("Initial")
	stateNormal            = zoneState("Normal")
	stateFullDisruption    = zoneState("FullDisruption")
	statePartialDisruption = zoneState("PartialDisruption")
)

// computeZoneState is ComputeZoneState: fully disrupted when no node is Ready, partially when
// more than 2 nodes and at least --unhealthy-zone-threshold of them are not Ready. A node
// without a Ready condition counts as not Ready.
func (c *Controller) computeZoneState(conds []*corev1.NodeCondition) (int, zoneState) {
	ready, notReady := 0, 0
	for _, cond := range conds {
		if cond != nil && cond.Status == corev1.ConditionTrue {
			ready++
		} else {
			notReady++
		}
	}
	switch {
	case ready == 0 && notReady > 0:
		return notReady, stateFullDisruption
	case notReady > 2 && float32(notReady)/float32(notReady+ready) >= c.flags.UnhealthyZoneThreshold:
		return notReady, statePartialDisruption
	default:
		return notReady, stateNormal
	}
}

// handleDisruption follows the real one: when every zone is fully disrupted the controller
// assumes its own connectivity is at fault, removes every NoExecute taint and stops tainting;
// leaving that mode resets every node's probe time; otherwise each zone whose state changed
// gets the rate of its new state (setLimiterInZone). Zones are taken in name order where the
// real controller ranges over a map.
func (c *Controller) handleDisruption(zoneToNodeConditions map[string][]*corev1.NodeCondition, nodes []*corev1.Node) {
	newStates := map[string]zoneState{}
	allAreFullyDisrupted := true
	for _, z := range sortedKeys(zoneToNodeConditions) {
		_, state := c.computeZoneState(zoneToNodeConditions[z])
		if state != stateFullDisruption {
			allAreFullyDisrupted = false
		}
		newStates[z] = state
		if _, had := c.zones[z]; !had {
			c.zones[z] = stateInitial
		}
	}
	allWasFullyDisrupted := true
	for _, z := range sortedKeys(c.zones) {
		if _, have := zoneToNodeConditions[z]; !have {
			delete(c.zones, z)
			c.regroup = true // its nodes, if any, now represent a new zone
			continue
		}
		if c.zones[z] != stateFullDisruption {
			allWasFullyDisrupted = false
			break
		}
	}
	if allAreFullyDisrupted && allWasFullyDisrupted {
		return
	}
	if allAreFullyDisrupted {
		// Entering full disruption mode: stop all evictions.
		for _, n := range nodes {
			c.markNodeAsReachable(n)
		}
		for _, z := range sortedKeys(c.zones) {
			c.tainters[z].SwapLimiter(0)
		}
		for z := range c.zones {
			c.zones[z] = stateFullDisruption
		}
		return
	}
	if allWasFullyDisrupted {
		// Leaving it: every node's probe time is reset, every zone gets its state's rate.
		now := c.clock.Now()
		for _, n := range nodes {
			if h := c.health[n.Name]; h != nil {
				cp := *h
				cp.probe, cp.readyTransition = now, now
				c.health[n.Name] = &cp
			}
		}
		for _, z := range sortedKeys(c.zones) {
			c.setLimiterInZone(z, len(zoneToNodeConditions[z]), newStates[z])
			c.zones[z] = newStates[z]
		}
		return
	}
	for _, z := range sortedKeys(c.zones) {
		if c.zones[z] == newStates[z] {
			continue
		}
		c.setLimiterInZone(z, len(zoneToNodeConditions[z]), newStates[z])
		c.zones[z] = newStates[z]
	}
}

// setLimiterInZone: Normal and FullDisruption (of one zone among healthier ones) tag at
// --node-eviction-rate (HealthyQPSFunc); PartialDisruption at ReducedQPSFunc.
func (c *Controller) setLimiterInZone(zone string, size int, state zoneState) {
	switch state {
	case stateNormal, stateFullDisruption:
		c.tainters[zone].SwapLimiter(c.flags.NodeEvictionRate)
	case statePartialDisruption:
		c.tainters[zone].SwapLimiter(c.reducedQPS(size))
	}
}

// reducedQPS is ReducedQPSFunc: --secondary-node-eviction-rate in a zone larger than
// --large-cluster-size-threshold, else 0 (no tainting at all).
func (c *Controller) reducedQPS(size int) float32 {
	if int32(size) > c.flags.LargeClusterSizeThreshold {
		return c.flags.SecondaryNodeEvictionRate
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
