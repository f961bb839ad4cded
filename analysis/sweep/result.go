package sweep

import (
	"sort"

	"github.com/kwoksim/kwoksim/analysis"
)

// RunKind and ResultKind identify the JSON documents of a sweep.
const (
	RunKind    = "SweepRun"
	ResultKind = "SweepResult"
)

// Run is one combination's full outcome: what `kwoksim sweep FILE --index I -o json` prints
// and what --reports DIR holds, one file each. It names its combination, so a directory of
// them, gathered from a cluster, can be merged without the matrix.
type Run struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Index      int    `json:"index"`
	// Combinations is how many the sweep has, so that a merge can tell which are missing.
	Combinations int              `json:"combinations"`
	Label        string           `json:"label"`
	Values       Values           `json:"values"`
	Args         []string         `json:"args"`
	Report       *analysis.Report `json:"report"`
}

// NewRun wraps a combination's report.
func NewRun(c Combination, total int, r *analysis.Report) *Run {
	return &Run{APIVersion: APIVersion, Kind: RunKind, Index: c.Index, Combinations: total, Label: c.Label,
		Values: c.Values, Args: c.Args, Report: r}
}

// Status of a combination in the comparison.
const (
	StatusDone       = "done"
	StatusIncomplete = "incomplete" // interrupted: figures so far
	StatusFailed     = "failed"     // no report: Error says why
	StatusNotRun     = "not run"    // interrupted before it started, or no report collected
)

// Result is the comparison across the combinations: `kwoksim sweep -o json` and
// `kwoksim sweep collect -o json`.
type Result struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Incomplete is true when some combination is not done.
	Incomplete   bool  `json:"incomplete"`
	Combinations []Row `json:"combinations"`
}

// Row is one combination's figures, taken from its report. Figures is absent when there is
// no report (failed, not run).
type Row struct {
	Index    int    `json:"index"`
	Label    string `json:"label"`
	Values   Values `json:"values"`
	Status   string `json:"status"`
	Error    string `json:"error,omitempty"`
	*Figures `json:",omitempty"`
}

// Figures are the key figures of one report.
type Figures struct {
	Seed             uint64                               `json:"seed"`
	SimulatedSeconds float64                              `json:"simulatedSeconds"`
	Summary          analysis.Summary                     `json:"summary"`
	Latency          analysis.Latency                     `json:"latency"`
	Utilization      map[string]analysis.UtilizationStats `json:"utilization"`
	TraceErrors      int                                  `json:"traceErrors"`
	// Autoscaling are the figures of the report's autoscaling section; absent without one.
	Autoscaling *AutoscalingFigures `json:"autoscaling,omitempty"`
	// GPU are the figures of the report's gpu section; absent without one.
	GPU *GPUFigures `json:"gpu,omitempty"`
	// Arrivals is the report's arrivals section (base.arrivalsOnly, base.untilUnschedulable);
	// absent without one.
	Arrivals *analysis.ArrivalsReport `json:"arrivals,omitempty"`
}

// NewResult starts a comparison of the combinations, none run yet.
func NewResult(combos []Combination) *Result {
	res := &Result{APIVersion: APIVersion, Kind: ResultKind, Combinations: make([]Row, len(combos))}
	for i, c := range combos {
		res.Combinations[i] = Row{Index: c.Index, Label: c.Label, Values: c.Values, Status: StatusNotRun}
	}
	res.update()
	return res
}

// SetReport records combination i's report.
func (res *Result) SetReport(i int, r *analysis.Report) {
	row := &res.Combinations[i]
	row.Status, row.Error = StatusDone, ""
	if r.Incomplete {
		row.Status = StatusIncomplete
	}
	row.Figures = &Figures{Seed: r.Seed, SimulatedSeconds: r.SimulatedSeconds, Summary: r.Summary, Latency: r.Latency,
		Utilization: r.Utilization, TraceErrors: len(r.TraceErrors), Autoscaling: autoscalingFigures(r), GPU: gpuFigures(r),
		Arrivals: r.Arrivals}
	if row.Utilization == nil {
		row.Utilization = map[string]analysis.UtilizationStats{}
	}
	res.update()
}

// SetError records that combination i ended without a report.
func (res *Result) SetError(i int, msg string) {
	row := &res.Combinations[i]
	row.Status, row.Error, row.Figures = StatusFailed, msg, nil
	res.update()
}

func (res *Result) update() {
	res.Incomplete = false
	for _, r := range res.Combinations {
		if r.Status != StatusDone {
			res.Incomplete = true
		}
	}
}

// Count returns how many combinations have each status.
func (res *Result) Count(status string) int {
	n := 0
	for _, r := range res.Combinations {
		if r.Status == status {
			n++
		}
	}
	return n
}

// Resources lists every resource any combination reports utilization of, sorted.
func (res *Result) Resources() []string {
	set := map[string]bool{}
	for _, r := range res.Combinations {
		if r.Figures != nil {
			for k := range r.Utilization {
				set[k] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
