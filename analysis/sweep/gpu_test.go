package sweep

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/analysis"
)

// A sweep of GPU runs shows, per combination, the arrivals accepted before the run ended and
// the GPU allocated and stranded; a combination without a report shows dashes there too.
func TestTableHasGPUAndArrivalsColumns(t *testing.T) {
	res := NewResult([]Combination{{Index: 0, Label: "schedulerConfig=least.yaml"}, {Index: 1, Label: "schedulerConfig=most.yaml"}, {Index: 2, Label: "schedulerConfig=bad.yaml"}})
	for i, f := range []struct {
		accepted        int
		alloc, stranded float64
		strandedOfIdle  float64
		endAt           float64
	}{{1639, 0.42, 0.11, 0.19, 3600}, {2100, 0.55, 0.07, 0.16, 7200}} {
		res.SetReport(i, &analysis.Report{
			Arrivals: &analysis.ArrivalsReport{Mode: "arrivals-only", Accepted: f.accepted, End: &analysis.ArrivalsEnd{At: f.endAt}},
			GPU: &analysis.GPUReport{Model: "dra", Allocation: analysis.OverTimeFigure{Final: f.alloc},
				Stranded: analysis.OverTimeFigure{Final: f.stranded}, StrandedOfIdle: f.strandedOfIdle},
		})
	}
	res.SetError(2, "bad config")
	var buf bytes.Buffer
	if err := WriteTable(&buf, res); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"ACCEPTED  ENDED AT  GPU ALLOCATED  GPU STRANDED  OF IDLE", "1639      1.0h      42.0%          11.0%         19.0%",
		"2100      2.0h      55.0%          7.0%          16.0%", "GPU columns at the end"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if line := strings.Split(out, "\n")[5]; strings.Count(line, "-") != 14 {
		t.Errorf("the failed combination's row should be all dashes: %q", line)
	}
}

// The CSV ends with the arrivals and GPU columns, empty for a combination without a report.
func TestCSVHasGPUAndArrivalsColumns(t *testing.T) {
	res := NewResult([]Combination{{Index: 0, Label: "a"}, {Index: 1, Label: "b"}})
	res.SetReport(0, &analysis.Report{
		Arrivals: &analysis.ArrivalsReport{Accepted: 7532, Unschedulable: 1, End: &analysis.ArrivalsEnd{At: 3600}},
		GPU:      &analysis.GPUReport{Allocation: analysis.OverTimeFigure{Final: 0.5, Mean: 0.25}, Stranded: analysis.OverTimeFigure{Final: 0.1}, StrandedOfIdle: 0.2},
	})
	res.SetError(1, "failed")
	var buf bytes.Buffer
	if err := WriteCSV(&buf, res); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if !strings.HasSuffix(lines[0], ",arrivals.accepted,arrivals.unschedulable,arrivals.endedAt,gpu.allocation,gpu.stranded,gpu.strandedOfIdle,gpu.meanAllocation,gpu.meanStranded") ||
		!strings.HasSuffix(lines[1], ",7532,1,3600,0.5,0.1,0.2,0.25,0") || !strings.HasSuffix(lines[2], ",,,,,,,,") {
		t.Errorf("csv:\n%s", buf.String())
	}
	if n := strings.Count(lines[0], ","); strings.Count(lines[1], ",") != n || strings.Count(lines[2], ",") != n {
		t.Errorf("rows of unequal width:\n%s", buf.String())
	}
}
