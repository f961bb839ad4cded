package app

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/version"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden outputs of testdata/golden (review the diff before committing)")

// goldenScenarios are the runs whose outputs are kept in testdata/golden/NAME.
var goldenScenarios = []struct {
	name string
	args []string
}{
	// The user's own node and Deployment: everything at t=0, a one-point time series.
	{"seed", []string{"--nodes", seedNodes, "--workload", seedWorkload}},
	// Five Deployments on three nodes, two of them unschedulable, KWOK's general pod stages
	// (1-6 s delays), a scale-in at 20 s and a fourth node at 30 s (see the files' comments).
	{"deployments", []string{
		"--nodes", "../../../testdata/scenarios/deployments/nodes.yaml",
		"--workload", "../../../testdata/scenarios/deployments/workloads.yaml",
		"--trace", "../../../testdata/scenarios/deployments/trace.yaml",
		"--stages", "../../../testdata/kwok/stages/node/fast", "--stages", "../../../testdata/kwok/stages/pod/general"}},
	// A rendered Helm chart and a kustomize build, as they come, on six nodes in three zones
	// for an hour (see testdata/bundles): every kind they hold is stored, acted on, skipped
	// (ConfigMaps, Secrets, Ingresses, a CRD and custom resources, Helm hooks) or listed as
	// not acted on (HPAs); the LimitRange defaults cart's requests, the CronJob runs 3 Jobs.
	{"bundles", []string{
		"-f", "../../../testdata/bundles/helm-shop.yaml", "-f", "../../../testdata/bundles/kustomize-store.yaml",
		"--nodes", "../../../testdata/bundles/nodes.yaml", "--until", "1h"}},
}

// The table, JSON and CSV outputs of each golden scenario match their reviewed files; YAML is
// the JSON report in another syntax. The figures themselves are checked against the pods and
// nodes of the report by checkReportFigures, so a golden cannot quietly hold a wrong one.
func TestGoldenOutputs(t *testing.T) {
	for _, sc := range goldenScenarios {
		t.Run(sc.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "golden", sc.name)
			csvDir := t.TempDir()
			got := map[string][]byte{}

			code, out, errOut := kwoksim(t, append([]string{"run", "-o", "json", "--csv", csvDir}, sc.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			r := decodeReport(t, out)
			r.Runtime = analysis.Runtime{}
			maskProvenance(t, r, csvDir)
			var buf bytes.Buffer
			if err := analysis.WriteJSON(&buf, r); err != nil {
				t.Fatal(err)
			}
			got["report.json"] = buf.Bytes()
			checkReportFigures(t, r)
			for _, f := range analysis.CSVFiles {
				b, err := os.ReadFile(filepath.Join(csvDir, f))
				if err != nil {
					t.Fatal(err)
				}
				got[f] = b
			}
			checkCSV(t, r, got)

			code, table, errOut := kwoksim(t, append([]string{"run"}, sc.args...)...)
			if code != exitOK {
				t.Fatalf("table: exit %d: %s", code, errOut)
			}
			got["table.txt"] = []byte(table)

			code, y, errOut := kwoksim(t, append([]string{"run", "-o", "yaml"}, sc.args...)...)
			if code != exitOK {
				t.Fatalf("yaml: exit %d: %s", code, errOut)
			}
			var fromYAML analysis.Report
			if err := yaml.UnmarshalStrict([]byte(y), &fromYAML); err != nil {
				t.Fatalf("-o yaml is not a report: %v", err)
			}
			fromYAML.Runtime = analysis.Runtime{}
			// Its provenance has its own command line.
			if fromYAML.Provenance == nil || !slices.Contains(fromYAML.Provenance.Command, "yaml") {
				t.Errorf("-o yaml: provenance %+v, want its command line", fromYAML.Provenance)
			}
			fromYAML.Provenance = r.Provenance
			if a, b := mustJSON(t, &fromYAML), mustJSON(t, r); !bytes.Equal(a, b) {
				t.Errorf("-o yaml holds another report than -o json")
			}

			names := make([]string, 0, len(got))
			for name := range got {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				golden := filepath.Join(dir, name)
				if *updateGolden {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, got[name], 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it, then review it)", err)
				}
				if !bytes.Equal(want, got[name]) {
					t.Errorf("%s differs from %s:\n%s", name, golden, lineDiff(want, got[name]))
				}
			}
		})
	}
}

// maskProvenance keeps a golden report's provenance stable across builds and test runs: the
// kwoksim build (version, commit, Kubernetes, Go) is masked, as wall times are, and the CSV
// directory, a temporary one, named CSV_DIR; the command line and the inputs stay, to be
// reviewed. It fails the test if the provenance is missing or its build is empty.
func maskProvenance(t *testing.T, r *analysis.Report, csvDir string) {
	t.Helper()
	p := r.Provenance
	if p == nil || p.Kwoksim.Version == "" || p.Kwoksim.Go == "" || p.Kwoksim.Kubernetes == "" {
		t.Fatalf("provenance %+v, want one with the kwoksim build", p)
	}
	for i, arg := range p.Command {
		if arg == csvDir {
			p.Command[i] = "CSV_DIR"
		}
	}
	p.Kwoksim = version.Info{Version: "VERSION", Commit: "COMMIT", Kubernetes: "KUBERNETES", Go: "GO"}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lineDiff shows the first differing line.
func lineDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n want %s\n  got %s", i+1, a, b)
		}
	}
	return "(same lines)"
}

// nearestRank is the p-th percentile as the report defines it, computed the plain way: the
// ceil(p·n)-th smallest value.
func nearestRank(xs []float64, p float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	k := int(math.Ceil(p*float64(len(s)))) - 1
	if k < 0 {
		k = 0
	}
	return s[k]
}

func checkDistribution(t *testing.T, name string, got analysis.Distribution, xs []float64) {
	t.Helper()
	if len(xs) == 0 {
		if got != (analysis.Distribution{}) {
			t.Errorf("%s = %+v over no values", name, got)
		}
		return
	}
	want := analysis.Distribution{P50: nearestRank(xs, 0.5), P90: nearestRank(xs, 0.9), P99: nearestRank(xs, 0.99),
		Max: nearestRank(xs, 1), Count: len(xs)}
	if got != want {
		t.Errorf("%s = %+v, want %+v (from %v)", name, got, want, xs)
	}
}

// checkReportFigures recomputes the statistics from the report's own pods and nodes.
func checkReportFigures(t *testing.T, r *analysis.Report) {
	t.Helper()
	var sched, startup, attempts []float64
	for _, p := range r.Pods {
		if p.ScheduledAt != nil {
			sched = append(sched, *p.ScheduledAt-*p.CreatedAt)
		}
		if p.RunningAt != nil {
			startup = append(startup, *p.RunningAt-*p.CreatedAt)
		}
		if p.Attempts > 0 {
			attempts = append(attempts, float64(p.Attempts))
		}
	}
	checkDistribution(t, "latency.scheduling", r.Latency.Scheduling, sched)
	checkDistribution(t, "latency.startup", r.Latency.Startup, startup)
	checkDistribution(t, "attempts", r.Attempts, attempts)

	// The last point of the time series is the end of the run the summary describes.
	ts := r.Timeseries
	last := len(ts.T) - 1
	for _, s := range [][]int{ts.Pending, ts.Running, ts.Succeeded, ts.Failed, ts.ReadyNodes} {
		if len(s) != len(ts.T) {
			t.Fatalf("series of %d points, t of %d", len(s), len(ts.T))
		}
	}
	if last < 0 || ts.T[last] != r.SimulatedSeconds {
		t.Fatalf("time series ends at %v, the run at %v", ts.T, r.SimulatedSeconds)
	}
	sum := r.Summary
	if ts.Pending[last] != sum.Pods.Pending || ts.Running[last] != sum.Pods.Running || ts.Succeeded[last] != sum.Pods.Succeeded ||
		ts.Failed[last] != sum.Pods.Failed || ts.ReadyNodes[last] != sum.Nodes.Ready {
		t.Errorf("last point %d/%d/%d/%d, %d ready; summary %+v", ts.Pending[last], ts.Running[last], ts.Succeeded[last],
			ts.Failed[last], ts.ReadyNodes[last], sum)
	}
	// Cluster utilization at the end is the nodes' requests over their allocatable; per node,
	// and spread across nodes, it is what the node's quantities say.
	type stat struct{ req, alloc float64 }
	cluster := map[string]*stat{}
	per := map[string][]float64{}
	for _, n := range r.Nodes {
		for name, a := range n.Allocatable {
			qa, qr := resource.MustParse(a), resource.MustParse(n.Requested[name])
			alloc, req := qa.AsApproximateFloat64(), qr.AsApproximateFloat64()
			if cluster[name] == nil {
				cluster[name] = &stat{}
			}
			cluster[name].req += req
			cluster[name].alloc += alloc
			if alloc > 0 {
				if u := n.Utilization[name]; math.Abs(u-req/alloc) > 1e-12 {
					t.Errorf("node %s %s utilization %v, want %v/%v", n.Name, name, u, req, alloc)
				}
				per[name] = append(per[name], req/alloc)
			}
		}
	}
	for name, s := range cluster {
		if u := ts.Utilization[name][last]; math.Abs(u-s.req/s.alloc) > 1e-12 {
			t.Errorf("timeseries utilization %s at the end = %v, want %v/%v", name, u, s.req, s.alloc)
		}
	}
	for name, xs := range per {
		var mean, max float64
		for _, x := range xs {
			mean += x / float64(len(xs))
			max = math.Max(max, x)
		}
		var v float64
		for _, x := range xs {
			v += (x - mean) * (x - mean) / float64(len(xs))
		}
		got := r.Utilization[name]
		if got.Nodes != len(xs) || math.Abs(got.Mean-mean) > 1e-12 || math.Abs(got.Stddev-math.Sqrt(v)) > 1e-12 || got.Max != max {
			t.Errorf("utilization %s = %+v, want mean %v stddev %v max %v over %d nodes", name, got, mean, math.Sqrt(v), max, len(xs))
		}
	}
	// Unschedulable reasons count the unschedulable pods.
	total := 0
	for _, rc := range r.UnschedulableReasons {
		total += rc.Count
	}
	if total != sum.Pods.Unschedulable {
		t.Errorf("reasons count %d pods, summary %d unschedulable", total, sum.Pods.Unschedulable)
	}
}

// checkCSV reads the CSV files back: a header and one row per pod, node, point, transition.
func checkCSV(t *testing.T, r *analysis.Report, files map[string][]byte) {
	t.Helper()
	rows := map[string]int{"run.csv": 1, "pods.csv": len(r.Pods), "nodes.csv": len(r.Nodes), "timeseries.csv": len(r.Timeseries.T), "transitions.csv": len(r.Transitions)}
	for name, n := range rows {
		recs, err := csv.NewReader(bytes.NewReader(files[name])).ReadAll()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(recs) != n+1 {
			t.Errorf("%s: %d rows, want a header and %d", name, len(recs), n)
		}
	}
}

// --csv creates its directory and leaves exactly the five files in it; a path that is a file
// is a usage error before the run, with nothing written.
func TestCSVDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "csv")
	code, _, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload, "--csv", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, " "), "nodes.csv pods.csv run.csv timeseries.csv transitions.csv"; got != want {
		t.Errorf("files %q, want %q", got, want)
	}
	if st, err := os.Stat(filepath.Join(dir, "pods.csv")); err != nil {
		t.Error(err)
	} else if st.Mode().Perm() != 0o644 {
		t.Errorf("pods.csv has mode %v; want an ordinary 0644 file", st.Mode().Perm())
	}

	file := filepath.Join(t.TempDir(), "taken")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--csv", file)
	if code != exitBadInput || !strings.Contains(errOut, "--csv "+file+": expected a directory, found a file") || out != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != "x" {
		t.Errorf("the file was changed: %q", b)
	}
}
