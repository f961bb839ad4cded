package load

import (
	"errors"
	"math/bits"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kwoksim/kwoksim/autoscaling/hpa"
)

// MetricWindow is the window of every metric: metrics-server's default --metric-resolution
// (15s), the window it reports its pod metrics over. kwoksim's usage is instantaneous; the
// window is reported as metrics-server would report it.
const MetricWindow = 15 * time.Second

// errNoMetrics is upstream's error when the metrics API lists no pod
// (resourceMetricsClient.GetResourceMetric, pkg/controller/podautoscaler/metrics/client.go).
var errNoMetrics = errors.New("no metrics returned from resource metrics API")

// metrics follows resourceMetricsClient.GetResourceMetric with getPodMetrics and
// getContainerMetrics (pkg/controller/podautoscaler/metrics/client.go): the metrics API
// lists the pods it has data for; none is an error; a container metric leaves out the pods
// without that container.
func (m *Model) metrics(ns string, selector labels.Selector, res corev1.ResourceName, container string) (hpa.PodMetrics, error) {
	r := resourceIndex(res)
	now := m.s.Clock().Now()
	// ranks are each loaded workload's Ready pods in name order, made on first need: the
	// pods first in name order take the remainder of an exact split (share).
	ranks := map[*workload]map[string]int{}
	rank := func(w *workload, name string) int {
		rk := ranks[w]
		if rk == nil {
			var names []string
			for n, p := range m.pods[w.ref.Namespace] {
				if p.ready && containsWorkload(p.ws, w) {
					names = append(names, n)
				}
			}
			sort.Strings(names)
			rk = make(map[string]int, len(names))
			for i, n := range names {
				rk[n] = i
			}
			ranks[w] = rk
		}
		return rk[name]
	}
	out := hpa.PodMetrics{}
	listed := 0
	var names []string
	for name, p := range m.pods[ns] {
		if r < 0 || !p.running || p.mode(r) == noData || !selector.Matches(labels.Set(p.labels)) {
			continue
		}
		names = append(names, name)
	}
	var cpuNow map[string]int64
	if r == cpu && len(names) > 0 {
		cpuNow = m.cpuAll(func(p *pod, w *workload) int { return rank(w, p.name) })
	}
	for _, name := range names {
		p := m.pods[ns][name]
		listed++
		var v int64
		if r == cpu {
			v = cpuNow[ns+"/"+name]
		} else {
			v = p.usage(r, func(w *workload) int { return rank(w, name) })
		}
		if r == memory {
			v *= 1000 // milli-bytes, as Quantity.MilliValue gives them
		}
		if container != "" {
			var ok bool
			if v, ok = containerShare(p.containers, r, container, v); !ok {
				continue
			}
		}
		out[name] = hpa.PodMetric{Timestamp: now, Window: MetricWindow, Value: v}
	}
	if listed == 0 {
		return nil, errNoMetrics
	}
	return out, nil
}

func containsWorkload(ws []*workload, w *workload) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// usage is a pod's usage of r now, in the model's units: its share of the demand of each
// loaded workload selecting it that sets one (none when not Ready), or else its annotation.
func (p *pod) usage(r int, rank func(*workload) int) int64 {
	switch p.mode(r) {
	case fromDemand:
		if !p.ready {
			return 0
		}
		var v int64
		for _, w := range p.ws {
			if w.set[r] {
				v += share(w.demand[r], int64(w.ready), int64(rank(w)))
			}
		}
		return v
	case fromAnnotation:
		return p.annot[r]
	}
	return 0
}

// share is the part of demand the pod of rank i (0-based, in name order) among n Ready
// pods takes: demand/n, and one unit more for the first demand%n pods, so that the parts
// add up to the demand exactly.
func share(demand, n, i int64) int64 {
	if n <= 0 {
		return 0
	}
	s := demand / n
	if i < demand%n {
		s++
	}
	return s
}

// containerShare is one container's part of a pod's usage v of resource r: v split among
// the containers in proportion to their requests of r (an exact split, the remainder to the
// first containers that request it), all of it on the first container when none requests
// it. ok is false when the pod has no such container.
func containerShare(cs []container, r int, name string, v int64) (int64, bool) {
	idx := -1
	var total uint64
	for i, c := range cs {
		if c.name == name {
			idx = i
		}
		total += uint64(c.req[r])
	}
	if idx < 0 {
		return 0, false
	}
	if total == 0 {
		if idx == 0 {
			return v, true
		}
		return 0, true
	}
	// floor(v*req/total) for each container, in 128 bits: v (milli-bytes) times a request
	// (bytes) can pass 64 bits; the quotient is at most v.
	part := func(req int64) int64 {
		hi, lo := bits.Mul64(uint64(v), uint64(req))
		q, _ := bits.Div64(hi, lo, total)
		return int64(q)
	}
	rem := v
	for _, c := range cs {
		rem -= part(c.req[r])
	}
	got := part(cs[idx].req[r])
	for i, c := range cs {
		if rem == 0 {
			break
		}
		if c.req[r] > 0 {
			if i == idx {
				got++
			}
			rem--
		}
	}
	return got, true
}
