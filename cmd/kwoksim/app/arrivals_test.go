package app

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/analysis"
)

// arrivals is a trace of eleven pods on two nodes of 2 CPUs (testdata/arrivals): a and b of
// 1.5 CPU at 0s and 10s, a deleted at 20s; then one pod every 10s: c 1, d 0.5, e 1, f 1,
// g 0.5, h 1, i 1, j 1 (30s to 100s); b deleted at 110s; k 0.5 at 120s. Each pod is
// attempted at its arrival instant.
//
// Arrivals only, a and b keep 1.5 CPU of each node: c does not fit (0.5 left on each), d and
// g do (the last half CPU of each node), every other pod does not. As recorded, a's CPU is
// free again at 20s: c fits, d fits beside it, then e, f, h, i, j do not and g fits.
const arrivals = "../../../testdata/arrivals/"

// arrivalRun runs kwoksim twice with args (and -o json), checks it exits 0 and that both runs
// give the same report, and returns it with the first run's stderr.
func arrivalRun(t *testing.T, args ...string) (*analysis.Report, string) {
	t.Helper()
	args = append([]string{"run", "--nodes", arrivals + "nodes.yaml", "--trace", arrivals + "trace.jsonl"}, append(args, "-o", "json")...)
	runtime := regexp.MustCompile(`(?s)"runtime": \{.*?\}`)
	var first, firstErr string
	for i := range 2 {
		code, out, errOut := kwoksim(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		out = runtime.ReplaceAllString(out, `"runtime": {}`)
		if i == 0 {
			first, firstErr = out, errOut
		} else if out != first {
			t.Errorf("%v: two runs gave different reports:\n%s", args, lineDiff([]byte(first), []byte(out)))
		}
	}
	return decodeReport(t, first), firstErr
}

// podNames are the names of the report's pods that still exist, in report order.
func podNames(r *analysis.Report) string {
	var names []string
	for _, p := range r.Pods {
		if p.DeletedAt == nil {
			names = append(names, p.Name)
		}
	}
	return strings.Join(names, " ")
}

// Without the flags the trace is replayed as recorded and the report has no arrivals section;
// with --arrivals-only the pods the trace deletes stay, bound, and the two deletions are
// counted in the section, the notes (also on stderr) and the provenance.
func TestArrivalsOnly(t *testing.T) {
	recorded, errOut := arrivalRun(t)
	if recorded.Arrivals != nil || recorded.Summary.Pods.Deleted != 2 || errOut != "" {
		t.Errorf("as recorded: arrivals %+v, %d deleted, stderr %q; want none, 2, nothing", recorded.Arrivals, recorded.Summary.Pods.Deleted, errOut)
	}
	if p := recorded.Provenance; p.ArrivalsOnly || p.UntilUnschedulable != 0 {
		t.Errorf("as recorded: provenance %+v", p)
	}

	r, errOut := arrivalRun(t, "--arrivals-only")
	want := analysis.ArrivalsReport{Mode: "arrivals-only", DeletionsSkipped: 2, Created: 11, Accepted: 4, Unschedulable: 7, Scheduled: 4}
	if r.Arrivals == nil || *r.Arrivals != want {
		t.Fatalf("arrivals %+v, want %+v", r.Arrivals, want)
	}
	if got := podNames(r); got != "a b c d e f g h i j k" || r.Summary.Pods.Deleted != 0 || r.Summary.Pods.Scheduled != 4 {
		t.Errorf("pods %q, %d deleted, %d scheduled; want all 11, none deleted, 4 scheduled", got, r.Summary.Pods.Deleted, r.Summary.Pods.Scheduled)
	}
	for _, p := range r.Pods {
		if bound := p.Node != ""; bound != strings.Contains("abdg", p.Name) {
			t.Errorf("pod %s on node %q", p.Name, p.Node)
		}
	}
	note := "arrivals only (--arrivals-only): 2 of the trace's Pod deletions not performed"
	if len(r.Notes) != 1 || !strings.HasPrefix(r.Notes[0], note) || !strings.Contains(errOut, "kwoksim: note: "+note) {
		t.Errorf("notes %q, stderr %q; want %q", r.Notes, errOut, note)
	}
	if !r.Provenance.ArrivalsOnly || r.Incomplete || r.SimulatedSeconds != 120 {
		t.Errorf("provenance %+v, incomplete %v, %vs simulated", r.Provenance, r.Incomplete, r.SimulatedSeconds)
	}
}

// --until-unschedulable N ends the run, complete, at the instant the Nth arriving pod in a
// row is found unschedulable, with nothing of the trace after it replayed; an accepted pod
// starts the count again.
func TestUntilUnschedulable(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want analysis.ArrivalsReport
		at   float64
		pods string
	}{
		// c is the first pod that cannot be placed: a and b were accepted, the deletion of a
		// at 20s skipped.
		{"the first unschedulable pod", []string{"--arrivals-only", "--until-unschedulable", "1"},
			analysis.ArrivalsReport{Mode: "arrivals-only", DeletionsSkipped: 1, UntilUnschedulable: 1, Created: 3, Accepted: 2, Unschedulable: 1, Scheduled: 2},
			30, "a b c"},
		// c, then d accepted (the count starts again), e, f, then g accepted, h, i, j: three
		// in a row at j.
		{"three in a row", []string{"--arrivals-only", "--until-unschedulable", "3"},
			analysis.ArrivalsReport{Mode: "arrivals-only", DeletionsSkipped: 1, UntilUnschedulable: 3, Created: 10, Accepted: 4, Unschedulable: 6, Scheduled: 4},
			100, "a b c d e f g h i j"},
		// As recorded, c and d fit where a was; e, f, then g accepted; h, i, j.
		{"as recorded", []string{"--until-unschedulable", "3"},
			analysis.ArrivalsReport{Mode: "as-recorded", UntilUnschedulable: 3, Created: 10, Accepted: 5, Unschedulable: 5, Scheduled: 5},
			100, "b c d e f g h i j"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, errOut := arrivalRun(t, tc.args...)
			a := r.Arrivals
			if a == nil || a.End == nil {
				t.Fatalf("arrivals %+v: no end", a)
			}
			end := *a.End
			got := *a
			got.End = nil
			if got != tc.want {
				t.Errorf("arrivals %+v, want %+v", got, tc.want)
			}
			last := tc.pods[len(tc.pods)-1:]
			if end.Reason != "until-unschedulable" || end.At != tc.at || end.Pod != "default/"+last || end.Consecutive != tc.want.UntilUnschedulable ||
				!strings.Contains(end.Message, "2 Insufficient cpu") {
				t.Errorf("end %+v, want at %v on default/%s", end, tc.at, last)
			}
			if r.SimulatedSeconds != tc.at || r.Incomplete {
				t.Errorf("the run reached %vs (incomplete %v), want %v, complete", r.SimulatedSeconds, r.Incomplete, tc.at)
			}
			if got := podNames(r); got != tc.pods {
				t.Errorf("pods %q, want %q: nothing of the trace after the end", got, tc.pods)
			}
			if !strings.Contains(errOut, "kwoksim: note: the run ended at t=") || r.Provenance.UntilUnschedulable != tc.want.UntilUnschedulable {
				t.Errorf("stderr %q, provenance %+v", errOut, r.Provenance)
			}
		})
	}
	// --until first: the run ends there, and the section says no arrival ended it.
	r, _ := arrivalRun(t, "--arrivals-only", "--until-unschedulable", "3", "--until", "45s")
	if a := r.Arrivals; a == nil || a.End != nil || a.Accepted != 3 || a.Unschedulable != 1 || r.SimulatedSeconds != 45 {
		t.Errorf("with --until 45s: arrivals %+v at %vs, want c unschedulable, a, b, d accepted, no end, 45s", a, r.SimulatedSeconds)
	}
}

// The table says it in two lines; assertions read the section, and see zero counts on a run
// without it.
func TestArrivalsTableAndAssertions(t *testing.T) {
	args := []string{"run", "--nodes", arrivals + "nodes.yaml", "--trace", arrivals + "trace.jsonl", "--arrivals-only", "--until-unschedulable", "1"}
	code, out, errOut := kwoksim(t, append(args, "--assert", "arrivals.accepted == 2 && arrivals.end.pod == 'default/c'")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Simulated 30s of cluster time (seed 1).\n",
		"Arrivals: arrivals-only (1 pod deletion skipped); 3 pods created by the trace: 2 accepted and 1 unschedulable at arrival, 2 scheduled\n" +
			"          ended at t=30s by --until-unschedulable 1: 1 unschedulable arrival in a row, the last default/c: 0/2 nodes are available: 2 Insufficient cpu.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	code, _, errOut = kwoksim(t, append(args, "-o", "json", "--assert", "arrivals.accepted > 5000")...)
	if code != exitAssertion || !strings.Contains(errOut, "arrivals.accepted = 2") {
		t.Errorf("exit %d, stderr %q; want the assertion to fail on 2", code, errOut)
	}
	code, out, errOut = kwoksim(t, "run", "--nodes", arrivals+"nodes.yaml", "--trace", arrivals+"trace.jsonl", "--assert", "arrivals.accepted == 0")
	if code != exitOK || strings.Contains(out, "Arrivals:") {
		t.Errorf("without the flags: exit %d, stderr %q, table\n%s", code, errOut, out)
	}
}
