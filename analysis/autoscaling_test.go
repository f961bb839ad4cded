package analysis

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Times of the hand-made autoscaler record, after docs/autoscaling.md's timelines 1 and 2: the
// step's scale-up decision at 1h+10s, the empty nodes deleted at 9h 10m 20s.
const (
	stepUp    = time.Hour + 10*time.Second
	stepDown  = 9*time.Hour + 10*time.Minute + 20*time.Second
	bigUp     = 2 * time.Hour
	batchUp   = 3 * time.Hour
	batchGone = 3*time.Hour + 15*time.Minute // the failed launch given up, and its retry
	batchDown = 5 * time.Hour
	runEnd    = 24 * time.Hour
)

func at(d time.Duration) *time.Duration { return &d }

// autoscalerObservation is a day with two pools: general (c8 at 0.40/h, c32 at 1.50/h), one
// c8 present at t=0, 8 c8 launched for a step and deleted when it ends, one c32 launched and
// kept; batch (b4 at 0.10/h), a launch that never registered and was given up, and its retry,
// later removed.
func autoscalerObservation() Observation {
	zero := time.Duration(0)
	rec := &AutoscalerRecord{
		Autoscaler: "cluster-autoscaler",
		Pools: []PoolRecord{
			{Name: "general", Min: 1, Max: 20, Shapes: []ShapeRecord{{Name: "c8", PricePerHour: 0.40, CPU: 8}, {Name: "c32", PricePerHour: 1.50, CPU: 32}}},
			{Name: "batch", Min: 0, Max: 4, Shapes: []ShapeRecord{{Name: "b4", PricePerHour: 0.10, CPU: 4}}},
		},
		Nodes: []*AutoscaledNodeRecord{{Name: "general-c8-0", Pool: "general", Shape: "c8", PricePerHour: 0.40, Initial: true,
			RegisteredAt: &zero}},
		Events: []ScaleEventRecord{
			{At: stepUp, Type: ScaleUp, Pool: "general", Shape: "c8", Count: 8, Pods: 29, Reason: "ScaledUpGroup",
				Message: "Scale-up: setting group general/c8 size to 9 instead of 1 (max: 20)"},
			{At: bigUp, Type: ScaleUp, Pool: "general", Shape: "c32", Count: 1, Pods: 1, Reason: "ScaledUpGroup"},
			{At: batchUp, Type: ScaleUp, Pool: "batch", Shape: "b4", Count: 1, Pods: 1, Reason: "ScaledUpGroup"},
			{At: batchGone, Type: ScaleUpTimedOut, Pool: "batch", Shape: "b4", Count: 1, Reason: "FailedToScaleUpGroup"},
			{At: batchGone, Type: ScaleUp, Pool: "batch", Shape: "b4", Count: 1, Pods: 1, Reason: "ScaledUpGroup"},
			{At: batchDown, Type: ScaleDown, Pool: "batch", Shape: "b4", Count: 1, Reason: "ScaleDownEmpty"},
			{At: 6 * time.Hour, Type: ScaleDownFailed, Pool: "general", Reason: "ScaleDownFailed"},
			{At: 7 * time.Hour, Type: Consolidation, Pool: "general", Count: 0, Reason: "Unconsolidatable"},
			{At: 8 * time.Hour, Type: Consolidation, Pool: "general", Count: 1, Reason: "DisruptionTerminating"},
			{At: stepDown, Type: ScaleDown, Pool: "general", Shape: "c8", Count: 8, Reason: "ScaleDownEmpty",
				Message: "Scale-down: removing empty node general-c8-1"},
		},
		NoScaleUp: []NoScaleUpRecord{
			{Namespace: "default", Name: "ssd", At: 2 * time.Hour, Reason: "pod didn't trigger scale-up: 2 node(s) didn't match Pod's node affinity/selector"},
			{Namespace: "default", Name: "late", At: time.Hour, Reason: "pod didn't trigger scale-up: 1 max node group size reached", Resolved: at(90 * time.Minute)},
		},
		Unremovable: []UnremovableRecord{{Node: "general-c8-0", Pool: "general", At: runEnd, Reason: "NodeGroupMinSizeReached"}},
		NotModelled: []string{"balance-similar-node-groups: a real cluster-autoscaler splits a scale-up across similar groups"},
	}
	for i := 1; i <= 8; i++ {
		rec.Nodes = append(rec.Nodes, &AutoscaledNodeRecord{Name: "general-c8-" + string(rune('0'+i)), Pool: "general", Shape: "c8",
			PricePerHour: 0.40, LaunchedAt: stepUp, RegisteredAt: at(stepUp + 70*time.Second), DeletedAt: at(stepDown), RemovalReason: "empty"})
	}
	rec.Nodes = append(rec.Nodes,
		&AutoscaledNodeRecord{Name: "general-c32-0", Pool: "general", Shape: "c32", PricePerHour: 1.50, LaunchedAt: bigUp,
			RegisteredAt: at(bigUp + time.Minute)},
		&AutoscaledNodeRecord{Name: "batch-b4-0", Pool: "batch", Shape: "b4", PricePerHour: 0.10, LaunchedAt: batchUp,
			FailedToRegister: true, DeletedAt: at(batchGone)},
		&AutoscaledNodeRecord{Name: "batch-b4-1", Pool: "batch", Shape: "b4", PricePerHour: 0.10, LaunchedAt: batchGone,
			RegisteredAt: at(batchGone + time.Minute), DeletedAt: at(batchDown), RemovalReason: "empty"})

	pod := func(name string, created, scheduled *time.Duration, reason string) PodRecord {
		p := &corev1.Pod{ObjectMeta: meta(name), Status: corev1.PodStatus{Phase: corev1.PodPending}}
		if scheduled != nil {
			p.Spec.NodeName, p.Status.Phase = "general-c8-0", corev1.PodRunning
		}
		return PodRecord{Pod: p, CreatedAt: created, ScheduledAt: scheduled, Reason: reason}
	}
	const full = "0/1 nodes are available: 1 Insufficient cpu."
	failed := pod("p2", sec(3600), sec(3700), full)
	failed.Outcome = &SchedulingOutcome{Code: "Unschedulable"}
	restored := pod("old", nil, sec(0), full)
	restored.Restored = true
	return Observation{Elapsed: runEnd, Autoscaler: rec, Pods: []PodRecord{
		pod("p1", sec(3600), sec(3690), full), // waited 90 s
		failed,                                // 100 s
		pod("p3", sec(3600), sec(3600), ""),   // bound at once: no wait for capacity
		restored,                              // no creation time: in no latency
		pod("p5", sec(3600), nil, full),       // never bound
		pod("p6", sec(7000), sec(7230), full), // 230 s
	}}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// The figures follow the section's accounting, recomputed here from the record's times:
// billed from launch to deletion or the end of the run, counts per instant of change.
func TestAutoscalingFigures(t *testing.T) {
	a := Build(autoscalerObservation()).Autoscaling
	if a == nil {
		t.Fatal("no autoscaling section")
	}
	h := func(d time.Duration) float64 { return d.Hours() }
	c8 := h(runEnd) + 8*h(stepDown-stepUp) // the initial node all day, 8 × 8h 10m 10s
	c32 := h(runEnd - bigUp)
	b4 := h(batchGone-batchUp) + h(batchDown-batchGone) // the given-up launch is billed until given up
	if want := 89.3556; math.Abs(c8-want) > 1e-4 {
		t.Fatalf("c8 node-hours %v: the worked timeline says %v", c8, want)
	}
	general := a.Pools[0]
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"c8 node-hours", general.Shapes[0].NodeHours, c8},
		{"c8 cost", general.Shapes[0].Cost, c8 * 0.40},
		{"c32 node-hours", general.Shapes[1].NodeHours, c32},
		{"c32 cost", general.Shapes[1].Cost, c32 * 1.50},
		{"general node-hours", general.NodeHours, c8 + c32},
		{"general cost", general.Cost, c8*0.40 + c32*1.50},
		{"b4 cost", a.Pools[1].Shapes[0].Cost, b4 * 0.10},
		{"batch node-hours", a.Pools[1].NodeHours, b4},
		{"node-hours", a.NodeHours, c8 + c32 + b4},
		{"cost", a.Cost, c8*0.40 + c32*1.50 + b4*0.10},
	} {
		if !near(f.got, f.want) {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
	if c := a.Pools[0].Shapes[0].Cost; !near(c-24*0.40, 35.74222222222222-24*0.40) {
		t.Errorf("the step's 8 nodes cost %v, want 8 × 8h 10m 10s × 0.40 = 26.14", c-24*0.40)
	}
	wantGeneral := [][2]float64{{0, 1}, {stepUp.Seconds(), 9}, {bigUp.Seconds(), 10}, {stepDown.Seconds(), 2}}
	if !reflect.DeepEqual(general.NodesOverTime, wantGeneral) || general.PeakNodes != 10 || general.Nodes != 2 {
		t.Errorf("general over time %v peak %d end %d, want %v, 10, 2", general.NodesOverTime, general.PeakNodes, general.Nodes, wantGeneral)
	}
	// The given-up launch and its retry at one instant cancel out: no point there.
	wantBatch := [][2]float64{{0, 0}, {batchUp.Seconds(), 1}, {batchDown.Seconds(), 0}}
	if batch := a.Pools[1]; !reflect.DeepEqual(batch.NodesOverTime, wantBatch) || batch.PeakNodes != 1 || batch.Nodes != 0 {
		t.Errorf("batch over time %v peak %d end %d, want %v, 1, 0", batch.NodesOverTime, batch.PeakNodes, batch.Nodes, wantBatch)
	}
	// Cost so far, by hand: general pays 0.40/h (the initial c8) until the step, 9 × 0.40 from
	// it, plus 1.50 from 2h, and 0.40 + 1.50 after the step ends, to the end of the day.
	c1 := h(stepUp) * 0.40
	c2 := c1 + h(bigUp-stepUp)*9*0.40
	c3 := c2 + h(stepDown-bigUp)*(9*0.40+1.50)
	c4 := c3 + h(runEnd-stepDown)*(0.40+1.50)
	wantCost := [][2]float64{{0, 0}, {stepUp.Seconds(), c1}, {bigUp.Seconds(), c2}, {stepDown.Seconds(), c3}, {runEnd.Seconds(), c4}}
	if len(general.CostOverTime) != len(wantCost) {
		t.Fatalf("general cost over time %v, want %v", general.CostOverTime, wantCost)
	}
	for i, pt := range general.CostOverTime {
		if pt[0] != wantCost[i][0] || !near(pt[1], wantCost[i][1]) {
			t.Errorf("general cost over time %v, want %v", general.CostOverTime, wantCost)
			break
		}
	}
	if last := general.CostOverTime[len(general.CostOverTime)-1][1]; !near(last, general.Cost) {
		t.Errorf("general's cost over time ends at %v, its cost is %v", last, general.Cost)
	}
	// The batch pool: 0.10/h from 3h to 5h (the given-up launch, then its retry), nothing after;
	// the instant they swap still gets a point (what the pool pays per hour changed by zero).
	if batch := a.Pools[1]; !near(batch.CostOverTime[len(batch.CostOverTime)-1][1], b4*0.10) {
		t.Errorf("batch cost over time %v, want it to end at %v", batch.CostOverTime, b4*0.10)
	}
	// 10 general nodes from 2h, and the batch launch at 3h: 11 at once.
	if a.PeakNodes != 11 || a.Nodes != 2 {
		t.Errorf("peak %d, at the end %d; want 11, 2", a.PeakNodes, a.Nodes)
	}
	// 8 c8, 1 c32, 2 b4 launched (the given-up one included); 8 c8 and 1 b4 removed.
	if a.NodesAdded != 11 || a.NodesRemoved != 9 || a.FailedLaunches != 1 {
		t.Errorf("added %d removed %d failed %d, want 11, 9, 1", a.NodesAdded, a.NodesRemoved, a.FailedLaunches)
	}
	if s := general.Shapes; s[0].NodesAdded != 8 || s[0].Nodes != 1 || s[1].NodesAdded != 1 || s[1].Nodes != 1 {
		t.Errorf("general shapes %+v", s)
	}
	// 4 ScaleUp events; 2 ScaleDown and the Consolidation that removed a node.
	if a.ScaleUps != 4 || a.ScaleDowns != 3 || len(a.Events) != 10 {
		t.Errorf("scale-ups %d scale-downs %d events %d, want 4, 3, 10", a.ScaleUps, a.ScaleDowns, len(a.Events))
	}
	if e := a.Events[0]; e.At != stepUp.Seconds() || e.Count != 8 || e.Pods != 29 || e.Reason != "ScaledUpGroup" {
		t.Errorf("first event %+v", e)
	}
	// Waits of 90, 100 and 230 s: the empirical p50 is the 2nd smallest, p90 and p99 the 3rd.
	if want := (Distribution{P50: 100, P90: 230, P99: 230, Max: 230, Count: 3}); a.CapacityWait != want {
		t.Errorf("capacity wait %+v, want %+v", a.CapacityWait, want)
	}
	if len(a.NoScaleUp) != 2 || a.NoScaleUpUnresolved != 1 || a.NoScaleUp[1].Resolved == nil || *a.NoScaleUp[1].Resolved != 5400 {
		t.Errorf("no scale-up %+v unresolved %d", a.NoScaleUp, a.NoScaleUpUnresolved)
	}
	if len(a.Unremovable) != 1 || a.Unremovable[0].At != runEnd.Seconds() {
		t.Errorf("unremovable %+v", a.Unremovable)
	}
	// A launch whose Node could not be created went away unregistered without the flag: a
	// failed launch too, billed until then, not a removal.
	o := autoscalerObservation()
	o.Autoscaler.Nodes = append(o.Autoscaler.Nodes, &AutoscaledNodeRecord{Name: "batch-b4-2", Pool: "batch", Shape: "b4",
		PricePerHour: 0.10, LaunchedAt: 10 * time.Hour, DeletedAt: at(10*time.Hour + 90*time.Second), RemovalReason: "failed to register"})
	b := Build(o).Autoscaling
	if b.FailedLaunches != 2 || b.NodesRemoved != 9 || b.NodesAdded != 12 || !near(b.Pools[1].NodeHours, b4+90.0/3600) {
		t.Errorf("with a Node that could not be created: failed %d removed %d added %d batch node-hours %v",
			b.FailedLaunches, b.NodesRemoved, b.NodesAdded, b.Pools[1].NodeHours)
	}
}

// A run without an autoscaler has no section: none in the JSON, none in the table, no
// autoscaling files among the CSV ones (a stale one is removed); assertions read zeros.
func TestNoAutoscalingSection(t *testing.T) {
	r := Build(Observation{Elapsed: time.Minute})
	if r.Autoscaling != nil {
		t.Fatalf("section %+v without an autoscaler", r.Autoscaling)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `"autoscaling"`) {
		t.Error("autoscaling in the JSON of a run without an autoscaler")
	}
	buf.Reset()
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "Autoscaling") {
		t.Errorf("autoscaling in the table:\n%s", buf.String())
	}
	for _, expr := range []string{"autoscaling.cost == 0", "autoscaling.noScaleUpUnresolved == 0",
		"size(autoscaling.noScaleUp) == 0 && size(autoscaling.pools) == 0", "autoscaling.capacityWait.p99 <= 100.0"} {
		if res := checkOne(t, expr, r); !res.Passed || res.Err != nil {
			t.Errorf("%s: passed %v, error %v", expr, res.Passed, res.Err)
		}
	}
	dir := t.TempDir()
	stale := filepath.Join(dir, AutoscalingCSVFiles[0])
	if err := os.WriteFile(stale, []byte("from an earlier run\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(dir, r); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("%s left from an earlier run: %v", stale, err)
	}
}

// The table shows the section's figures rounded and says loudly which pods no pool could
// take; assertions read the unrounded figures; CSV has a row per shape and the counts over
// time; the schema accepts the section and is closed there.
func TestAutoscalingTableAssertCSVSchema(t *testing.T) {
	r := Build(autoscalerObservation())
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		// 89.3556 + 22 + 2 node-hours; 35.7422 + 33 + 0.2.
		"Autoscaling (cluster-autoscaler): 2 pool node(s) at the end, peak 11; 113.36 node-hours, cost 68.94",
		"scale-ups: 4 (11 node(s) added); scale-downs: 3 (9 node(s) removed); 1 launch(es) never registered\n",
		"Billing: each node is billed from its launch",
		"general  1    20   2      10    111.36      68.74  c8 8, 1, 35.74; c32 1, 1, 33.00",
		"batch    0    4    0      1     2.00        0.20   b4 2, 0, 0.20",
		"created → bound, pods found unschedulable  3     1.7m  3.8m  3.8m  3.8m",
		"t=1.0h ScaleUp general/c8 8 node(s), 29 pod(s): ScaledUpGroup: Scale-up: setting group general/c8 size to 9 instead of 1 (max: 20)",
		"WARNING: 2 pod(s) no pool could take, 1 never bound; the autoscaler launched no node for them:",
		"default/ssd: pod didn't trigger scale-up: 2 node(s) didn't match Pod's node affinity/selector (t=2.0h)",
		"default/late: pod didn't trigger scale-up: 1 max node group size reached (t=1.0h); bound at t=1.5h after all",
		"general-c8-0 (pool general, t=24.0h): NodeGroupMinSizeReached",
		"Not modelled of cluster-autoscaler, and what a real one does:\n  - balance-similar-node-groups",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the table:\n%s", want, out)
		}
	}
	for _, tc := range []struct {
		expr string
		pass bool
	}{
		{"autoscaling.cost < 70", true},
		{"autoscaling.cost < 40", false},
		{"autoscaling.capacityWait.p99 <= 100", false},
		{"autoscaling.capacityWait.p50 <= 100.0 && autoscaling.capacityWait.count == 3", true},
		{"autoscaling.noScaleUpUnresolved == 0", false},
		{"size(autoscaling.noScaleUp) == 2", true},
		{`autoscaling.autoscaler == "cluster-autoscaler" && autoscaling.peakNodes == 11`, true},
		{`autoscaling.pools.exists(p, p.name == "general" && p.shapes.exists(s, s.name == "c32" && s.nodes == 1))`, true},
		{`autoscaling.unremovable.all(u, u.reason != "NodeGroupMinSizeReached")`, false},
		{`autoscaling.events.filter(e, e.type == "ScaleUp").size() == autoscaling.scaleUps`, true},
	} {
		res := checkOne(t, tc.expr, r)
		if res.Err != nil || res.Passed != tc.pass {
			t.Errorf("%s: passed %v (error %v), want %v", tc.expr, res.Passed, res.Err, tc.pass)
		}
	}

	dir := t.TempDir()
	if err := WriteCSV(dir, r); err != nil {
		t.Fatal(err)
	}
	read := func(f string) string {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := read("autoscaling.csv"), "autoscaler,pool,shape,pricePerHour,nodesAdded,nodes,nodeHours,cost\n"+
		"cluster-autoscaler,general,c8,0.4,8,1,"+csvNumber(r.Autoscaling.Pools[0].Shapes[0].NodeHours)+","+csvNumber(r.Autoscaling.Pools[0].Shapes[0].Cost)+"\n"+
		"cluster-autoscaler,general,c32,1.5,1,1,22,33\n"+
		"cluster-autoscaler,batch,b4,0.1,2,0,2,"+csvNumber(r.Autoscaling.Pools[1].Shapes[0].Cost)+"\n"; got != want {
		t.Errorf("autoscaling.csv:\n%s\nwant:\n%s", got, want)
	}
	if got, want := read("autoscaling-nodes.csv"), "t,general,batch\n0,1,0\n3610,9,0\n7200,10,0\n10800,10,1\n18000,10,0\n33020,2,0\n"; got != want {
		t.Errorf("autoscaling-nodes.csv:\n%s\nwant:\n%s", got, want)
	}

	sch := compileSchema(t)
	buf.Reset()
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if err := validate(sch, buf.Bytes()); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	for _, tc := range []struct {
		name   string
		mutate func(a map[string]any)
		want   string
	}{
		{"an autoscaler that is none", func(a map[string]any) { a["autoscaler"] = "keda" }, "/autoscaling/autoscaler"},
		{"a pool without its cost", func(a map[string]any) { delete(a["pools"].([]any)[0].(map[string]any), "cost") }, "missing property 'cost'"},
		{"a point that is no pair", func(a map[string]any) {
			a["pools"].([]any)[0].(map[string]any)["nodesOverTime"] = []any{[]any{0, 1, 2}}
		}, "/autoscaling/pools/0/nodesOverTime/0"},
		{"an unknown event type", func(a map[string]any) { a["events"].([]any)[0].(map[string]any)["type"] = "Scaled" }, "/autoscaling/events/0/type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			tc.mutate(m["autoscaling"].(map[string]any))
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			err = validate(sch, b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

// compare sets cluster-autoscaler and Karpenter side by side: each side names its autoscaler,
// and the cost, node-hours, peak and capacity wait are figures; a comparison of runs without
// an autoscaler has none of them.
func TestAutoscalingCompare(t *testing.T) {
	ca := Build(autoscalerObservation())
	o := autoscalerObservation()
	o.Autoscaler.Autoscaler = "karpenter"
	// Karpenter's two c32 instead of the 8 c8 (timeline 7): launched at 1h+1s, deleted at 9h.
	var nodes []*AutoscaledNodeRecord
	for _, n := range o.Autoscaler.Nodes {
		if n.Shape != "c8" || n.Initial {
			nodes = append(nodes, n)
		}
	}
	for _, name := range []string{"general-c32-1", "general-c32-2"} {
		nodes = append(nodes, &AutoscaledNodeRecord{Name: name, Pool: "general", Shape: "c32", PricePerHour: 1.50,
			LaunchedAt: time.Hour + time.Second, RegisteredAt: at(time.Hour + time.Minute), DeletedAt: at(9 * time.Hour)})
	}
	o.Autoscaler.Nodes = nodes
	o.Pods[0].ScheduledAt = sec(3660)
	k := Build(o)

	c := Compare(ca, k, "ca.json", "karpenter.json")
	if c.A.Autoscaler != "cluster-autoscaler" || c.B.Autoscaler != "karpenter" {
		t.Errorf("sides %+v %+v", c.A, c.B)
	}
	figures := map[string]FigureDiff{}
	for _, f := range c.Figures {
		figures[f.Name] = f
	}
	pair := func(name string) (float64, float64) {
		f, ok := figures[name]
		if !ok || f.A == nil || f.B == nil {
			t.Fatalf("figure %s: %+v", name, f)
		}
		return *f.A, *f.B
	}
	if a, b := pair("autoscaling.cost"); !near(a, ca.Autoscaling.Cost) || !near(b, k.Autoscaling.Cost) {
		t.Errorf("cost %v %v", a, b)
	}
	// Karpenter's step: 2 × (9h − 1h 1s) × 1.50 against 8 × 8h 10m 10s × 0.40.
	karpenterStep := 2 * (9*time.Hour - time.Hour - time.Second).Hours() * 1.50
	caStep := 8 * (stepDown - stepUp).Hours() * 0.40
	if a, b := pair("autoscaling.pools[general].cost"); !near(b-a, karpenterStep-caStep) {
		t.Errorf("general cost %v → %v, want a difference of %v", a, b, karpenterStep-caStep)
	}
	if a, b := pair("autoscaling.capacityWait.p50"); a != 100 || b != 100 {
		t.Errorf("wait p50 %v %v", a, b)
	}
	// Karpenter's p1 waited 60 s: 60, 100, 230.
	if a, b := pair("autoscaling.capacityWait.max"); a != 230 || b != 230 {
		t.Errorf("wait max %v %v", a, b)
	}
	if a, b := pair("autoscaling.peakNodes"); a != 11 || b != 5 {
		t.Errorf("peak %v %v, want 11, 5", a, b)
	}
	for _, name := range []string{"autoscaling.nodeHours", "autoscaling.scaleUps", "autoscaling.scaleDowns", "autoscaling.capacityWait.p90", "autoscaling.capacityWait.p99"} {
		pair(name)
	}
	var buf bytes.Buffer
	if err := WriteComparisonTable(&buf, c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"A: ca.json (seed 0, cluster-autoscaler)\nB: karpenter.json (seed 0, karpenter)",
		"autoscaling.cost  ", "autoscaling.capacityWait.p99"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("no %q in the comparison:\n%s", want, buf.String())
		}
	}
	plain := Build(Observation{Elapsed: time.Minute})
	for _, f := range Compare(plain, plain, "a.json", "b.json").Figures {
		if strings.HasPrefix(f.Name, "autoscaling.") {
			t.Errorf("figure %s compared between runs without an autoscaler", f.Name)
		}
	}
}
