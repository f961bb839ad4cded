package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/analysis"
)

// An event on a missing object is listed in the report and the run goes on (with --strict
// it is an error instead: see TestBadInputTable).
func TestTraceErrors(t *testing.T) {
	trace := "../../../testdata/bad/traces/missing-object.yaml"
	code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload, "--trace", trace, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if len(r.TraceErrors) != 1 {
		t.Fatalf("traceErrors = %+v, want one", r.TraceErrors)
	}
	if e := r.TraceErrors[0]; e.At != 10 || e.Line != 4 || e.File != trace || e.Message != "Node no-such-node not found" {
		t.Errorf("traceErrors[0] = %+v", e)
	}
	if r.Summary.Pods.Running != 10 {
		t.Errorf("the run did not go on: %+v", r.Summary.Pods)
	}

}

// Four pods of 1 CPU on an 8-CPU node, all deleted (grace 0) at 10m of a 20m run: the run ends
// empty, so its final figures are 0 (0 running, 0 used, 0.0% cpu), and the report, the table
// and the HTML page show its peak and time-weighted mean beside them. By hand: 4 of 8 CPUs is a
// peak of 50% from t=0 (the pods are bound and Running within the first instant); held for 10
// of 20 minutes, a mean of 25%; 4 pods running at the peak, 2 on average; one node used for
// half the run, 0.5 on average. Two runs give the same report (runJSON).
func TestOverTimeOfATraceThatEndsEmpty(t *testing.T) {
	const dir = "../../../testdata/overtime/"
	args := []string{"run", "--nodes", dir + "nodes.yaml", "--workload", dir + "pods.yaml", "--trace", dir + "trace.yaml", "--until", "20m"}
	r := runJSON(t, args...)
	ot := r.OverTime
	if s := r.Summary; s.Pods.Running != 0 || s.Pods.Deleted != 4 || s.Nodes.Used != 0 {
		t.Fatalf("the run does not end empty: %+v", s)
	}
	want := analysis.OverTimeFigure{Final: 0, Peak: 0.5, PeakAt: 0, Mean: 0.25}
	if got := ot.Utilization["cpu"]; got != want {
		t.Errorf("cpu over time %+v, want %+v", got, want)
	}
	if got, want := ot.PodsRunning, (analysis.OverTimeFigure{Final: 0, Peak: 4, PeakAt: 0, Mean: 2}); got != want {
		t.Errorf("pods running over time %+v, want %+v", got, want)
	}
	if got, want := ot.NodesUsed, (analysis.OverTimeFigure{Final: 0, Peak: 1, PeakAt: 0, Mean: 0.5}); got != want {
		t.Errorf("nodes used over time %+v, want %+v", got, want)
	}

	html := filepath.Join(t.TempDir(), "page.html")
	code, out, errOut := kwoksim(t, append(args, "--html", html)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Nodes: 1 total, 1 ready, 0 used\n       over the run: used peak 1 at t=0s, mean 0.5\n",
		"       over the run: running peak 4 at t=0s, mean 2; bound peak 4 at t=0s, mean 2\n",
		"CLUSTER UTILIZATION  FINAL  PEAK   PEAK AT  MEAN OVER TIME\ncpu                  0.0%   50.0%  t=0s     25.0%\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<td>pods running</td><td class="num">0</td><td class="num">4</td><td class="num">0s</td><td class="num">2.0</td>`,
		`<td>cpu utilization</td><td class="num">0.0%</td><td class="num">50.0%</td><td class="num">0s</td><td class="num">25.0%</td>`,
		"The run ended emptier than it was",
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// A 1e29-CPU pod on a 1e30-CPU node is 10% of it everywhere the report and the table say so;
// the millicores wrapped to 0 and the run said 0%.
func TestHugeQuantities(t *testing.T) {
	const dir = "../../../testdata/overtime/"
	args := []string{"run", "--nodes", dir + "huge-node.yaml", "--workload", dir + "huge-pod.yaml"}
	r := runJSON(t, args...)
	if len(r.Nodes) != 1 || r.Nodes[0].Pods != 1 {
		t.Fatalf("the pod is not on the node: %+v", r.Nodes)
	}
	if u := r.Nodes[0].Utilization["cpu"]; u != 0.1 {
		t.Errorf("node cpu utilization %v, want 0.1", u)
	}
	if u := r.Utilization["cpu"]; u.Mean != 0.1 || u.Max != 0.1 {
		t.Errorf("cpu across nodes %+v, want 0.1", u)
	}
	if u := r.Timeseries.Utilization["cpu"]; u[len(u)-1] != 0.1 {
		t.Errorf("time series cpu %v, want 0.1 at the end", u)
	}
	if f := r.OverTime.Utilization["cpu"]; f.Final != 0.1 || f.Peak != 0.1 {
		t.Errorf("cpu over time %+v, want 0.1", f)
	}
	code, out, errOut := kwoksim(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"100e27/1e30 (10%)", "cpu          1      10.0%"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
}
