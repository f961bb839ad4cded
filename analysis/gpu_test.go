package analysis

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Two nodes of two cards; shapes of 0.5 card (3 pods) and of 1 whole card (1 pod). At 10 s a
// half card is taken on n0, at 20 s n1 loses its CPU to other pods. The stranded GPU follows
// §4.1 of the study node by node.
func TestBuildGPUFragmentation(t *testing.T) {
	card := func(free int64) GPUCard { return GPUCard{Capacity: 1000, Free: free} }
	rec := &GPURecord{
		Model: "dra",
		Nodes: []string{"n0", "n1"},
		Changes: []GPUChange{
			{At: 0, Node: 0, Exists: true, CPUFree: 8000, MemoryFree: 1 << 30, Cards: []GPUCard{card(1000), card(1000)}},
			{At: 0, Node: 1, Exists: true, CPUFree: 8000, MemoryFree: 1 << 30, Cards: []GPUCard{card(1000), card(1000)}},
			{At: 10 * time.Second, Node: 0, Exists: true, CPUFree: 7000, MemoryFree: 1 << 30, Cards: []GPUCard{card(500), card(1000)}},
			{At: 20 * time.Second, Node: 1, Exists: true, CPUFree: 0, MemoryFree: 1 << 30, Cards: []GPUCard{card(1000), card(1000)}},
		},
		Shapes: []GPUShape{
			{Pods: 3, CPU: 1000, Cards: 1, Milli: 500, NodeOK: []bool{true, true}, TypeOK: []bool{true}},
			{Pods: 1, CPU: 1000, Cards: 1, Milli: 1000, NodeOK: []bool{true, true}, TypeOK: []bool{true}},
		},
	}
	times := []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second}
	g, series := buildGPU(rec, 40*time.Second, times)
	// At the end: n0 has 500 + 1000 free, all usable by the half-card shape, and the whole-card
	// shape cannot use the 500 left on card 0: 0.25 × 500 = 125. n1 cannot run either shape
	// (no CPU): all its 2000 free, for both.
	if g.StrandedMilli != 2125 || g.AllocatedMilli != 500 || g.CapacityMilli != 4000 || g.BusyCards != 1 || g.IdleCards != 3 {
		t.Fatalf("gpu section: %+v", g)
	}
	if g.GPUPods != 4 || g.Shapes != 2 || g.Nodes != 2 || g.Cards != 4 {
		t.Errorf("counts: %+v", g)
	}
	wantStranded := []float64{0, 125.0 / 4000, 2125.0 / 4000, 2125.0 / 4000}
	wantAlloc := []float64{0, 0.125, 0.125, 0.125}
	for i := range times {
		if series.Stranded[i] != wantStranded[i] || series.Allocation[i] != wantAlloc[i] {
			t.Errorf("at %v: allocation %v stranded %v, want %v %v", times[i], series.Allocation[i], series.Stranded[i], wantAlloc[i], wantStranded[i])
		}
	}
	// Time-weighted: 0 for 10 s, 125/4000 for 10 s, 2125/4000 for 20 s.
	if want := (10*125.0/4000 + 20*2125.0/4000) / 40; g.Stranded.Mean != want || g.Stranded.PeakAt != 20 {
		t.Errorf("stranded over time: %+v, want mean %v peaking at 20 s", g.Stranded, want)
	}
	if want := 2125.0 / 3500; g.StrandedOfIdle != want {
		t.Errorf("stranded of idle %v, want %v", g.StrandedOfIdle, want)
	}

	// A deleted node's GPUs count no more.
	rec.Changes = append(rec.Changes, GPUChange{At: 30 * time.Second, Node: 1})
	g, _ = buildGPU(rec, 40*time.Second, times)
	if g.CapacityMilli != 2000 || g.StrandedMilli != 125 || g.Nodes != 1 {
		t.Errorf("after n1 is deleted: %+v", g)
	}

	// The section validates against the schema.
	r := Build(Observation{Elapsed: 40 * time.Second, GPU: rec})
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if err := validate(compileSchema(t), buf.Bytes()); err != nil {
		t.Errorf("a report with a gpu section: %v", err)
	}
}

// timeseries.csv ends with the gpu series when the report has them.
func TestGPUSeriesInCSV(t *testing.T) {
	card := GPUCard{Capacity: 1000, Free: 400}
	rec := &GPURecord{Model: "dra", Nodes: []string{"n0"},
		Changes: []GPUChange{{At: 0, Node: 0, Exists: true, CPUFree: 1000, Cards: []GPUCard{card}}},
		Shapes:  []GPUShape{{Pods: 1, Cards: 1, Milli: 500, NodeOK: []bool{true}, TypeOK: []bool{true}}}}
	rows := timeseriesRows(Build(Observation{Elapsed: 10 * time.Second, GPU: rec, SampleInterval: 10 * time.Second}))
	header, last := rows[0], rows[len(rows)-1]
	if header[len(header)-2] != "gpu.allocation" || header[len(header)-1] != "gpu.stranded" ||
		last[len(last)-2] != "0.6" || last[len(last)-1] != "0.4" || len(rows) != 3 {
		t.Errorf("timeseries.csv: %v", rows)
	}
	if rows := timeseriesRows(Build(Observation{Elapsed: 10 * time.Second})); len(rows[0]) != 6 {
		t.Errorf("without GPUs: header %v", rows[0])
	}
}

// kwoksim compare sets the gpu and arrivals figures side by side when either report has them,
// and leaves them out otherwise.
func TestCompareGPUAndArrivals(t *testing.T) {
	a := Build(Observation{Elapsed: time.Minute})
	b := Build(Observation{Elapsed: time.Minute})
	b.GPU = &GPUReport{Model: "dra", Cards: 8, StrandedMilli: 1500, Stranded: OverTimeFigure{Final: 0.2}}
	b.Arrivals = &ArrivalsReport{Mode: ReplayArrivalsOnly, Created: 10, Accepted: 9, Unschedulable: 1}
	figures := map[string]FigureDiff{}
	for _, f := range Compare(a, b, "a.json", "b.json").Figures {
		figures[f.Name] = f
	}
	for name, want := range map[string]float64{"gpu.cards": 8, "gpu.strandedMilli": 1500, "gpu.stranded.final": 0.2, "arrivals.accepted": 9} {
		f, ok := figures[name]
		if !ok || f.A != nil || f.B == nil || *f.B != want {
			t.Errorf("%s: %+v, want null against %v", name, f, want)
		}
	}
	for _, f := range Compare(a, a, "a.json", "a.json").Figures {
		if strings.HasPrefix(f.Name, "gpu.") || strings.HasPrefix(f.Name, "arrivals.") {
			t.Errorf("a comparison without GPUs or arrivals has %s", f.Name)
		}
	}
}

// The table shows the GPU shares as percentages and their difference in points.
func TestCompareTableShowsGPUShares(t *testing.T) {
	a := Build(Observation{Elapsed: time.Minute})
	b := Build(Observation{Elapsed: time.Minute})
	a.GPU = &GPUReport{Model: "pooled", Stranded: OverTimeFigure{Final: 0.085}}
	b.GPU = &GPUReport{Model: "dra", Stranded: OverTimeFigure{Final: 0.103}}
	var buf bytes.Buffer
	if err := WriteComparisonTable(&buf, Compare(a, b, "a.json", "b.json")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "gpu.stranded.final") || !strings.Contains(buf.String(), "8.5%") || !strings.Contains(buf.String(), "+1.8 pp") {
		t.Errorf("table:\n%s", buf.String())
	}
}

// Assertions read the arrivals section of a run without it as they read one that has it and
// did not end on an arrival: counts 0 and end null (not an object of empty fields).
func TestArrivalsEndIsNullWithoutTheSection(t *testing.T) {
	without := Build(Observation{Elapsed: time.Minute})
	with := Build(Observation{Elapsed: time.Minute})
	with.Arrivals = &ArrivalsReport{Mode: ReplayArrivalsOnly}
	for _, r := range []*Report{without, with} {
		for _, expr := range []string{"arrivals.end == null", "arrivals.accepted == 0"} {
			if res := checkOne(t, expr, r); !res.Passed || res.Err != nil {
				t.Errorf("%s with arrivals %v: passed %v, error %v", expr, r.Arrivals, res.Passed, res.Err)
			}
		}
	}
}
