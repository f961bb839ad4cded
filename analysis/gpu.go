package analysis

import (
	"math"
	"time"
)

// The names the GPU figures read, shared by what writes them (the openb import) and what
// counts them (sim's gpu log): a pooled GPU resource in thousandths of a card, as openb's
// pooled import gives nodes and pods, and the device capacity read as a card's thousandths
// (a device without it is a whole card of 1000, consumed whole).
const (
	GPUMilliResource = "kwoksim.io/gpu-milli"
	GPUMilliCapacity = "gpuMilli"
)

// GPURecord is what the recorder saw of the cluster's GPUs (sim/recordgpu.go): every change
// to a GPU node's free GPU, CPU and memory, and the GPU demands of the pods created, from which
// the report's gpu section (GPUReport) is computed. Nil when no node had a GPU.
type GPURecord struct {
	// Model is how the GPUs were described: "dra" (devices in ResourceSlices, allocated per
	// card by the DynamicResources plugin), "pooled" (an extended resource the
	// NodeResourcesFit plugin counts as one pool per node) or "mixed".
	Model string
	// Nodes names the GPU nodes, in the order they were first seen; changes refer to them by
	// index.
	Nodes []string
	// Changes are the states of the GPU nodes after every change, in time order; at most one
	// per node and instant.
	Changes []GPUChange
	// Shapes are the GPU demands of the pods created during the run, each with how many pods
	// had it and on which nodes and cards it may run.
	Shapes []GPUShape
	// Unresolved counts the pods that reference a claim or template that did not exist when
	// they were created, whose demand is therefore unknown and left out of Shapes.
	Unresolved int
}

// GPUChange is one GPU node's state from At on.
type GPUChange struct {
	At   time.Duration
	Node int32
	// Exists is false once the node is deleted: its GPUs count no more.
	Exists bool
	// CPUFree (millicores) and MemoryFree (bytes) are allocatable less the requests of the
	// pods bound to the node and not terminated.
	CPUFree, MemoryFree int64
	// Cards are the node's GPUs.
	Cards []GPUCard
}

// GPUCard is one GPU: its capacity and what is not allocated of it, in thousandths of a card
// ("GPU-milli"), and its type (an index that GPUShape.Types is read with).
type GPUCard struct {
	Type           int32
	Capacity, Free int64
}

// GPUShape is one GPU demand: Cards cards of at least Milli free GPU-milli each (1000 for
// whole cards), with CPU millicores and Memory bytes on the same node.
type GPUShape struct {
	Pods        int
	CPU, Memory int64
	Cards       int64
	Milli       int64
	// NodeOK tells, per entry of GPURecord.Nodes, whether the pod's node selector and required
	// node affinity admit the node; TypeOK, per card type, whether its device selectors (the
	// DeviceClass's and the request's) match the card.
	NodeOK, TypeOK []bool
}

// GPUReport is what the run tells of the cluster's GPUs: how much was allocated and how much
// was left stranded, at the end and over time.
//
// Stranded GPU is measured as Weng et al. measure fragmentation (“Beware of Fragmentation:
// Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent”, USENIX ATC '23,
// §4.1), against the run's own GPU workload: for a node n and a pod shape m, the unallocated
// GPU of n that m cannot use is
//   - all of n's unallocated GPU when m cannot run on n at all (its CPU or memory does not fit,
//     its node affinity excludes n, or fewer than m.Cards cards it may use have m.Milli free);
//   - otherwise the unallocated GPU of the cards m cannot use: cards of a type its selectors
//     exclude, and cards with less than min(m.Milli, 1000) free.
//
// The node's stranded GPU is that amount averaged over the shapes, each weighted by the share
// of GPU pods that had it (the study's expected fragmentation over the target workload); the
// cluster's is the sum over its nodes. Pods without a GPU demand are not part of the workload.
type GPUReport struct {
	// Model is "dra", "pooled" or "mixed" (see GPURecord.Model).
	Model string `json:"model"`
	// Nodes and Cards count the GPU nodes and cards at the end; CapacityMilli is their
	// GPU-milli (1000 per card).
	Nodes         int   `json:"nodes"`
	Cards         int   `json:"cards"`
	CapacityMilli int64 `json:"capacityMilli"`
	// AllocatedMilli is the GPU-milli allocated at the end; BusyCards the cards with any of
	// it allocated, IdleCards those with none.
	AllocatedMilli int64 `json:"allocatedMilli"`
	BusyCards      int   `json:"busyCards"`
	IdleCards      int   `json:"idleCards"`
	// StrandedMilli is the unallocated GPU-milli the workload cannot use at the end (see
	// GPUReport).
	StrandedMilli int64 `json:"strandedMilli"`
	// Allocation is AllocatedMilli/CapacityMilli and Stranded StrandedMilli/CapacityMilli,
	// over time (final, peak, time-weighted mean); StrandedOfIdle is StrandedMilli over the
	// unallocated GPU-milli at the end (0 when none is unallocated).
	Allocation     OverTimeFigure `json:"allocation"`
	Stranded       OverTimeFigure `json:"stranded"`
	StrandedOfIdle float64        `json:"strandedOfIdle"`
	// Shapes counts the distinct GPU demands of the pods created, and GPUPods those pods;
	// Unresolved the pods whose demand could not be read (a claim or template missing when
	// they were created).
	Shapes     int `json:"shapes"`
	GPUPods    int `json:"gpuPods"`
	Unresolved int `json:"unresolved,omitempty"`
}

// GPUSeries is the gpu section's time series, sampled at the report's sample times.
type GPUSeries struct {
	// Allocation is the GPU-milli allocated at each sample over the GPU-milli capacity of the
	// GPU nodes then (GPUReport.Allocation's quantity); Stranded the GPU-milli stranded over
	// the same capacity (GPUReport.Stranded's).
	Allocation []float64 `json:"allocation"`
	Stranded   []float64 `json:"stranded"`
}

// gpuNode is a GPU node's current state in the sweep over the changes.
type gpuNode struct {
	GPUChange
	seen bool
	// stranded is the node's stranded GPU-milli in thousandths, an integer so that the
	// cluster's sum, kept by adding and taking away nodes' amounts, does not drift.
	stranded int64
}

// buildGPU computes the gpu section and its series from the record, sampled at times.
func buildGPU(rec *GPURecord, elapsed time.Duration, times []time.Duration) (*GPUReport, *GPUSeries) {
	if rec == nil {
		return nil, nil
	}
	r := &GPUReport{Model: rec.Model, Shapes: len(rec.Shapes), Unresolved: rec.Unresolved}
	var weights []float64
	for _, s := range rec.Shapes {
		r.GPUPods += s.Pods
	}
	for _, s := range rec.Shapes {
		weights = append(weights, float64(s.Pods)/float64(r.GPUPods))
	}
	nodes := make([]gpuNode, len(rec.Nodes))
	var capacity, free, stranded int64
	ratios := func() []float64 {
		if capacity == 0 {
			return []float64{0, 0}
		}
		return []float64{float64(capacity-free) / float64(capacity), float64(stranded) / 1000 / float64(capacity)}
	}
	acc := &overTime{state: make([]float64, 2), peak: make([]float64, 2), integral: make([]float64, 2), peakAt: make([]time.Duration, 2)}
	series := &GPUSeries{Allocation: make([]float64, len(times)), Stranded: make([]float64, len(times))}
	var last time.Duration
	next := 0 // the next sample
	sample := func(until time.Duration) {
		for ; next < len(times) && times[next] < until; next++ {
			series.Allocation[next], series.Stranded[next] = acc.state[0], acc.state[1]
		}
	}
	for i := 0; i < len(rec.Changes); {
		at := rec.Changes[i].At
		sample(at)
		acc.hold(acc.state, at-last)
		last = at
		for ; i < len(rec.Changes) && rec.Changes[i].At == at; i++ {
			c := rec.Changes[i]
			n := &nodes[c.Node]
			if n.seen && n.Exists {
				capacity -= cardSum(n.Cards, true)
				free -= cardSum(n.Cards, false)
				stranded -= n.stranded
			}
			n.GPUChange, n.seen = c, true
			if n.Exists {
				n.stranded = int64(math.Round(1000 * nodeStranded(rec.Shapes, weights, c)))
				capacity += cardSum(n.Cards, true)
				free += cardSum(n.Cards, false)
				stranded += n.stranded
			}
		}
		copy(acc.state, ratios())
		acc.reach(acc.state, at)
	}
	sample(elapsed + 1)
	acc.hold(acc.state, elapsed-last)
	figure := func(i int) OverTimeFigure {
		f := OverTimeFigure{Final: acc.state[i], Peak: acc.peak[i], PeakAt: acc.peakAt[i].Seconds(), Mean: acc.state[i]}
		if elapsed > 0 {
			f.Mean = acc.integral[i] / elapsed.Seconds()
		}
		return f
	}
	r.Allocation, r.Stranded = figure(0), figure(1)
	for _, n := range nodes {
		if !n.seen || !n.Exists {
			continue
		}
		r.Nodes++
		for _, c := range n.Cards {
			if c.Capacity == 0 {
				continue
			}
			r.Cards++
			if c.Free < c.Capacity {
				r.BusyCards++
			} else {
				r.IdleCards++
			}
		}
	}
	r.CapacityMilli, r.AllocatedMilli = capacity, capacity-free
	r.StrandedMilli = (stranded + 500) / 1000
	if free > 0 {
		r.StrandedOfIdle = float64(stranded) / 1000 / float64(free)
	}
	return r, series
}

// cardSum adds up the cards' capacity, or what is free of them.
func cardSum(cards []GPUCard, capacity bool) int64 {
	var s int64
	for _, c := range cards {
		if capacity {
			s += c.Capacity
		} else {
			s += c.Free
		}
	}
	return s
}

// nodeStranded is a node's unallocated GPU-milli the workload cannot use: the shapes'
// fragmentation of the node (see GPUReport), weighted by their share of the GPU pods.
func nodeStranded(shapes []GPUShape, weights []float64, n GPUChange) float64 {
	free := cardSum(n.Cards, false)
	if free == 0 {
		return 0
	}
	var sum float64
	for i, s := range shapes {
		sum += weights[i] * float64(fragmentation(s, n, free))
	}
	return sum
}

// fragmentation is the unallocated GPU-milli of node n that pods of shape s cannot use
// (Weng et al., §4.1; see GPUReport); free is the node's unallocated GPU-milli.
func fragmentation(s GPUShape, n GPUChange, free int64) int64 {
	if !s.NodeOK[n.Node] || n.CPUFree < s.CPU || n.MemoryFree < s.Memory {
		return free
	}
	need := min(s.Milli, 1000)
	var fits int64
	var unusable int64
	for _, c := range n.Cards {
		usable := int(c.Type) < len(s.TypeOK) && s.TypeOK[c.Type]
		if usable && c.Free >= s.Milli {
			fits++
		}
		if !usable || c.Free < need {
			unusable += c.Free
		}
	}
	if fits < s.Cards {
		return free
	}
	return unusable
}
