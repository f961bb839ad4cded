package analysis

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
)

// Comparison is two reports side by side: the JSON contract of `kwoksim compare -o json`.
type Comparison struct {
	A ComparedReport `json:"a"`
	B ComparedReport `json:"b"`
	// Figures are the key figures of both reports, in a fixed order (see figureNames).
	Figures []FigureDiff `json:"figures"`
	// Placements are the pods placed differently, sorted by namespace and name: on another
	// node, scheduled in one report only, or present in one report only.
	Placements []PlacementDiff `json:"placements"`
	// Nodes are the nodes whose pod count differs, sorted by name: a view of placement that
	// does not depend on pod names, which the seed draws for the pods of a Deployment.
	Nodes []NodeDiff `json:"nodes"`
}

// ComparedReport names one side of a comparison.
type ComparedReport struct {
	File string `json:"file"`
	Seed uint64 `json:"seed"`
	// Autoscaler is the node autoscaler the run modelled ("cluster-autoscaler", "karpenter");
	// absent for a run without one.
	Autoscaler string `json:"autoscaler,omitempty"`
}

// FigureDiff is one figure in both reports. A or B is null when that report does not have
// the figure (a resource or stage that appears in one report only); Diff is B − A, null
// when either is.
type FigureDiff struct {
	Name string   `json:"name"`
	A    *float64 `json:"a"`
	B    *float64 `json:"b"`
	Diff *float64 `json:"diff"`
}

// PlacementDiff is one pod placed differently. A and B are its node in each report: "" when
// it was never scheduled, null when the report has no such pod.
type PlacementDiff struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	A         *string `json:"a"`
	B         *string `json:"b"`
}

// NodeDiff is one node's pod count in each report; null when the report has no such node.
type NodeDiff struct {
	Name string `json:"name"`
	A    *int   `json:"a"`
	B    *int   `json:"b"`
}

// Compare sets report b beside report a; fileA and fileB name them.
func Compare(a, b *Report, fileA, fileB string) *Comparison {
	c := &Comparison{
		A:          ComparedReport{File: fileA, Seed: a.Seed, Autoscaler: autoscalerOf(a)},
		B:          ComparedReport{File: fileB, Seed: b.Seed, Autoscaler: autoscalerOf(b)},
		Figures:    []FigureDiff{},
		Placements: []PlacementDiff{},
	}
	fa, fb := keyFigures(a), keyFigures(b)
	for _, name := range figureNames(a, b) {
		d := FigureDiff{Name: name}
		if v, ok := fa[name]; ok {
			d.A = &v
		}
		if v, ok := fb[name]; ok {
			d.B = &v
		}
		if d.A != nil && d.B != nil {
			diff := roundDiff(*d.A, *d.B)
			d.Diff = &diff
		}
		c.Figures = append(c.Figures, d)
	}
	c.Placements = placementDiffs(a, b)
	c.Nodes = nodeDiffs(a, b)
	return c
}

// roundDiff is b − a without the last digits' floating-point noise (0.3 − 0.1 is
// 0.19999999999999998). Two means of the same values summed in another order differ by
// about 1e-18, which is noise too: a difference below 12 significant digits of the operands
// is 0.
func roundDiff(a, b float64) float64 {
	d := b - a
	if math.Abs(d) <= 1e-12*math.Max(math.Abs(a), math.Abs(b)) {
		return 0
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(d, 'g', 12, 64), 64)
	return r
}

// keyFigures are the figures of one report by name.
func keyFigures(r *Report) map[string]float64 {
	p, n := r.Summary.Pods, r.Summary.Nodes
	f := map[string]float64{
		"simulatedSeconds":           r.SimulatedSeconds,
		"summary.pods.total":         float64(p.Total),
		"summary.pods.scheduled":     float64(p.Scheduled),
		"summary.pods.unschedulable": float64(p.Unschedulable),
		"summary.pods.pending":       float64(p.Pending),
		"summary.pods.running":       float64(p.Running),
		"summary.pods.succeeded":     float64(p.Succeeded),
		"summary.pods.failed":        float64(p.Failed),
		"summary.pods.deleted":       float64(p.Deleted),
		"summary.nodes.total":        float64(n.Total),
		"summary.nodes.ready":        float64(n.Ready),
		"summary.nodes.used":         float64(usedNodes(r)),
		"traceErrors":                float64(len(r.TraceErrors)),
		"summary.evictions":          float64(r.Summary.Evictions),
	}
	for name, d := range map[string]Distribution{"latency.scheduling": r.Latency.Scheduling, "latency.startup": r.Latency.Startup} {
		f[name+".p50"], f[name+".p90"], f[name+".p99"], f[name+".max"] = d.P50, d.P90, d.P99, d.Max
	}
	if v := r.Volumes; v != nil {
		c := v.Claims
		f["volumes.claims.total"], f["volumes.claims.pending"], f["volumes.claims.bound"] = float64(c.Total), float64(c.Pending), float64(c.Bound)
		f["volumes.claims.lost"], f["volumes.podsWaiting"] = float64(c.Lost), float64(len(v.PodsWaiting))
		for name, d := range map[string]Distribution{"volumes.provisioning": v.Provisioning, "volumes.binding": v.Binding} {
			f[name+".p50"], f[name+".p90"], f[name+".p99"], f[name+".max"] = d.P50, d.P90, d.P99, d.Max
		}
	}
	autoscalingFigures(f, r.Autoscaling)
	hpaFigures(f, r.HorizontalPodAutoscalers)
	usageFigures(f, r.Usage)
	gpuFigures(f, r.GPU)
	arrivalsFigures(f, r.Arrivals)
	for res, u := range r.Utilization {
		f["utilization."+res+".mean"], f["utilization."+res+".max"] = u.Mean, u.Max
	}
	for _, t := range r.Transitions {
		f[transitionFigure(t)] = float64(t.Count)
	}
	return f
}

// usedNodes counts the nodes holding a pod from nodes[], which is what summary.nodes.used
// counts, so that a report written before that field existed compares too.
func usedNodes(r *Report) int {
	n := 0
	for _, nr := range r.Nodes {
		if nr.Pods > 0 {
			n++
		}
	}
	return n
}

func transitionFigure(t TransitionReport) string {
	return fmt.Sprintf("transitions[%s/%s]", t.Kind, t.Stage)
}

// figureNames is the order of the comparison: the summary, latency, volumes, autoscaling, then the resources and
// the stages of either report, sorted, then trace errors.
func figureNames(a, b *Report) []string {
	names := []string{
		"simulatedSeconds",
		"summary.pods.total", "summary.pods.scheduled", "summary.pods.unschedulable", "summary.pods.pending",
		"summary.pods.running", "summary.pods.succeeded", "summary.pods.failed", "summary.pods.deleted",
		"summary.nodes.total", "summary.nodes.ready", "summary.nodes.used",
	}
	// Evictions are compared when either run had some, so that comparisons of runs without
	// failures read as before.
	if a.Summary.Evictions > 0 || b.Summary.Evictions > 0 {
		names = append(names, "summary.evictions")
	}
	for _, l := range []string{"latency.scheduling", "latency.startup"} {
		names = append(names, l+".p50", l+".p90", l+".p99", l+".max")
	}
	// Volumes are compared when either run had claims; a run without has none of these
	// figures (null), which tells a claim-less run from one whose claims all bound.
	if a.Volumes != nil || b.Volumes != nil {
		names = append(names, "volumes.claims.total", "volumes.claims.pending", "volumes.claims.bound",
			"volumes.claims.lost", "volumes.podsWaiting")
		for _, l := range []string{"volumes.provisioning", "volumes.binding"} {
			names = append(names, l+".p50", l+".p90", l+".p99", l+".max")
		}
	}
	names = append(names, autoscalingFigureNames(a, b)...)
	names = append(names, hpaComparedNames(a, b)...)
	names = append(names, usageComparedNames(a, b)...)
	names = append(names, gpuComparedNames(a, b)...)
	resources := map[string]bool{}
	for _, r := range []*Report{a, b} {
		for res := range r.Utilization {
			resources[res] = true
		}
	}
	for _, res := range slices.Sorted(maps.Keys(resources)) {
		names = append(names, "utilization."+res+".mean", "utilization."+res+".max")
	}
	var transitions []TransitionReport
	seen := map[string]bool{}
	for _, r := range []*Report{a, b} {
		for _, t := range r.Transitions {
			if name := transitionFigure(t); !seen[name] {
				seen[name] = true
				transitions = append(transitions, t)
			}
		}
	}
	slices.SortFunc(transitions, func(x, y TransitionReport) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Stage, y.Stage))
	})
	for _, t := range transitions {
		names = append(names, transitionFigure(t))
	}
	return append(names, "traceErrors")
}

// placementDiffs matches pods by namespace and name.
func placementDiffs(a, b *Report) []PlacementDiff {
	type key struct{ ns, name string }
	nodes := func(r *Report) map[key]string {
		m := make(map[key]string, len(r.Pods))
		for _, p := range r.Pods {
			m[key{p.Namespace, p.Name}] = p.Node
		}
		return m
	}
	out := []PlacementDiff{}
	differences(nodes(a), nodes(b), func(x, y key) int { return cmp.Or(cmp.Compare(x.ns, y.ns), cmp.Compare(x.name, y.name)) },
		func(k key, va, vb *string) {
			out = append(out, PlacementDiff{Namespace: k.ns, Name: k.name, A: va, B: vb})
		})
	return out
}

// nodeDiffs matches nodes by name.
func nodeDiffs(a, b *Report) []NodeDiff {
	pods := func(r *Report) map[string]int {
		m := make(map[string]int, len(r.Nodes))
		for _, n := range r.Nodes {
			m[n.Name] = n.Pods
		}
		return m
	}
	out := []NodeDiff{}
	differences(pods(a), pods(b), cmp.Compare[string],
		func(n string, va, vb *int) { out = append(out, NodeDiff{Name: n, A: va, B: vb}) })
	return out
}

// differences calls add, in key order, for every key whose value differs between a and b or
// that only one of them has; a value is nil where its map lacks the key.
func differences[K comparable, V comparable](a, b map[K]V, order func(K, K) int, add func(k K, va, vb *V)) {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, order)
	for _, k := range keys {
		va, inA := a[k]
		vb, inB := b[k]
		if inA && inB && va == vb {
			continue
		}
		var pa, pb *V
		if inA {
			pa = &va
		}
		if inB {
			pb = &vb
		}
		add(k, pa, pb)
	}
}
