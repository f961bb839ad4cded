package load

import (
	"math/bits"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/sim"
)

// CPU contention. A pod's share of its workload's demand is what it would use; what it can
// use is bounded, as on a real node: by its containers' CPU limits (the CFS quota), and, when
// the pods on a node together want more than the node's allocatable CPU, by the node, which
// divides its CPU among them in proportion to their CPU shares, each taking at most what it
// wants (CFS weights; the kubelet sets a container's shares from its request,
// pkg/kubelet/cm/helpers_linux.go MilliCPUToShares, 2 at least). The metrics served to the
// HPA are the usage after both bounds; the report's usage section is the demand before them.

// minShares is MilliCPUToShares' floor (helpers_linux.go MinShares).
const minShares = 2

// cpuShares is MilliCPUToShares: requests in millicores to cgroup cpu.shares.
func cpuShares(milli int64) uint64 {
	if milli <= 0 {
		return minShares
	}
	hi, lo := bits.Mul64(uint64(milli), 1024)
	if hi != 0 {
		return 1 << 62 // an absurd request: as large a weight as any
	}
	return max(lo/1000, minShares)
}

// observeNode keeps each node's allocatable CPU, the bound of its pods' usage.
func (m *Model) observeNode(ev sim.WatchEvent) {
	n, ok := ev.Object.(*corev1.Node)
	if !ok {
		return
	}
	if ev.Type == watch.Deleted {
		delete(m.nodeCPU, n.Name)
		m.version++
		return
	}
	q, ok := n.Status.Allocatable[corev1.ResourceCPU]
	if old, had := m.nodeCPU[n.Name]; had == ok && old == q.MilliValue() {
		return // a heartbeat: nothing the usage depends on
	}
	m.version++
	if ok {
		m.nodeCPU[n.Name] = q.MilliValue()
	} else {
		delete(m.nodeCPU, n.Name)
	}
}

// cpuAll is what every followed pod can use of the CPU it wants now (cpuOnNodes over every
// node), computed once per change of the model.
func (m *Model) cpuAll(rank func(p *pod, w *workload) int) map[string]int64 {
	if m.cpuNow == nil || m.cpuVersion != m.version {
		m.cpuNow, m.cpuVersion = m.cpuOnNodes(nil, rank), m.version
	}
	return m.cpuNow
}

// cpuOnNodes is what each followed pod on the given nodes (every node when nil) can use of the
// CPU it wants: its demand (rank gives its place in its workloads' split) bounded by its CPU
// limit, then the node's allocatable divided by throttle. Keyed by namespace/name.
func (m *Model) cpuOnNodes(nodes map[string]bool, rank func(p *pod, w *workload) int) map[string]int64 {
	type onNode struct {
		keys []string
		pods []*pod
	}
	by := map[string]*onNode{}
	for ns, byName := range m.pods { // once over the followed pods, whatever the number of nodes
		for name, p := range byName {
			if nodes != nil && !nodes[p.node] || !p.running {
				continue
			}
			o := by[p.node]
			if o == nil {
				o = &onNode{}
				by[p.node] = o
			}
			o.keys, o.pods = append(o.keys, ns+"/"+name), append(o.pods, p)
		}
	}
	out := map[string]int64{}
	for node, o := range by {
		keys, pods := o.keys, o.pods
		idx := make([]int, len(keys))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
		wants := make([]int64, len(idx))
		weights := make([]uint64, len(idx))
		for j, i := range idx {
			p := pods[i]
			v := p.usage(cpu, func(w *workload) int { return rank(p, w) })
			if p.cpuLimit > 0 {
				v = min(v, p.cpuLimit)
			}
			wants[j], weights[j] = v, cpuShares(p.req[cpu])
		}
		got := wants
		if alloc, ok := m.nodeCPU[node]; ok {
			got = throttle(alloc, wants, weights)
		}
		for j, i := range idx {
			out[keys[i]] = got[j]
		}
	}
	return out
}

// throttle divides capacity among demands in proportion to weights, no one getting more than
// it wants, what one does not take going to the others (max-min fairness with weights, which
// is what CFS converges to for CPU-bound tasks). Exact integers; the remainder of the last
// round is dropped, so the parts never sum to more than capacity.
func throttle(capacity int64, wants []int64, weights []uint64) []int64 {
	got := make([]int64, len(wants))
	var total int64
	active := make([]int, 0, len(wants))
	for i, w := range wants {
		total += w
		if w > 0 {
			active = append(active, i)
		}
	}
	if total <= capacity || capacity < 0 {
		copy(got, wants)
		return got
	}
	left := uint64(capacity)
	for len(active) > 0 {
		var sum uint64
		for _, i := range active {
			sum += weights[i]
		}
		fair := func(i int) uint64 {
			hi, lo := bits.Mul64(left, weights[i])
			if hi >= sum {
				return left
			}
			q, _ := bits.Div64(hi, lo, sum)
			return q
		}
		var next []int
		var taken uint64
		for _, i := range active {
			if uint64(wants[i]) <= fair(i) {
				got[i] = wants[i]
				taken += uint64(wants[i])
			} else {
				next = append(next, i)
			}
		}
		if len(next) == len(active) {
			// No one is content with its fair part: each gets exactly that.
			for _, i := range active {
				got[i] = int64(fair(i))
			}
			return got
		}
		left -= taken
		active = next
	}
	return got
}
