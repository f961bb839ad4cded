package app

import (
	"bytes"
	"encoding/json"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/sweep"
	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// --autoscaler and --autoscaler-flag give the run's options: the autoscaler resolved from the
// inputs, the flags applied over the real defaults.
func TestAutoscalerFlags(t *testing.T) {
	var f autoscalerFlags
	fl := pflag.NewFlagSet("run", pflag.ContinueOnError)
	f.register(fl)
	if err := fl.Parse([]string{"--autoscaler-flag", "scale-down-unneeded-time=5m", "--autoscaler-flag=--expander=most-pods,random"}); err != nil {
		t.Fatal(err)
	}
	got, note, err := f.options(true)
	if err != nil {
		t.Fatal(err)
	}
	want := autoscaling.DefaultOptions()
	want.Autoscaler, want.ScaleDownUnneededTime, want.Expander = autoscaling.ClusterAutoscaler, 5*time.Minute, "most-pods,random"
	if got != want || note != autoscaling.DefaultNote {
		t.Errorf("got %+v, note %q\nwant %+v and the default note", got, note, want)
	}
	// Without pools the same flags have no autoscaler to go to.
	if _, _, err := f.options(false); err == nil || !strings.Contains(err.Error(), "the run's autoscaler is none") {
		t.Errorf("flags without pools: %v", err)
	}
	// A plan forwards both as given.
	pl := pflag.NewFlagSet("plan", pflag.ContinueOnError)
	addForwardedFlags(pl)
	if err := pl.Parse([]string{"--autoscaler", "karpenter", "--autoscaler-flag", "batch-idle-duration=2s"}); err != nil {
		t.Fatal(err)
	}
	args := forwardArgs(pl)
	for _, w := range []string{"--autoscaler=karpenter", "--autoscaler-flag=batch-idle-duration=2s"} {
		if !slices.Contains(args, w) {
			t.Errorf("forwarded %q, want %q among them", args, w)
		}
	}
}

// With NodePools and no --autoscaler, the report says kwoksim chose cluster-autoscaler;
// --autoscaler none reads the pools and lists them as not acted on, without the note.
func TestAutoscalerDefaultNote(t *testing.T) {
	for _, tc := range []struct {
		args []string
		note bool
	}{
		{nil, true},
		{[]string{"--autoscaler", "none"}, false},
	} {
		args := append([]string{"run", "--nodes", seedNodes, "--workload", seedWorkload, "-f", nodePoolFile, "-o", "json"}, tc.args...)
		code, out, errOut := kwoksim(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		r := decodeReport(t, out)
		if got := slices.Contains(r.Notes, autoscaling.DefaultNote); got != tc.note {
			t.Errorf("%v: the default note in the report: %v, want %v (notes %q)", tc.args, got, tc.note, r.Notes)
		}
		if got := strings.Contains(errOut, "note: "+autoscaling.DefaultNote); got != tc.note {
			t.Errorf("%v: the default note on stderr: %v, want %v", tc.args, got, tc.note)
		}
		if !tc.note && !slices.ContainsFunc(r.NotActedOn, func(k analysis.NotActedOnKind) bool { return k.Kind == "NodePool" }) {
			t.Errorf("--autoscaler none: NodePool not listed as not acted on: %+v", r.NotActedOn)
		}
	}
}

// With NodePools, plan answers with one run of the autoscaler instead of a search: the
// "dynamic" section, valid against plan.schema.json, with what the run's autoscaling section
// says. --autoscaler none keeps the static search over the template, the pools not acted on.
func TestPlanDynamic(t *testing.T) {
	code, out, errOut := kwoksim(t, "plan", "--node-template", cpu4Template, "--workload", cpuWorkload, "-f", nodePoolFile, "--autoscaler", "none", "-o", "json", "--max-nodes", "8")
	if code != exitOK {
		t.Fatalf("--autoscaler none: exit %d: %s", code, errOut)
	}
	if p := decodePlan(t, out); p.Dynamic != nil || len(p.Templates) != 1 {
		t.Errorf("--autoscaler none: a static plan expected:\n%s", out)
	}

	code, out, errOut = kwoksim(t, "plan", "--nodes", seedNodes, "--workload", seedWorkload, "-f", nodePoolFile, "-o", "json", "--until", "10m")
	if code != exitOK && code != exitAssertion {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	p := decodePlan(t, out)
	if p.Dynamic == nil || p.Dynamic.Autoscaler != autoscaling.ClusterAutoscaler || p.Dynamic.Note != autoscaling.DefaultNote ||
		len(p.Templates) != 0 || len(p.Dynamic.Pools) != 1 || p.Dynamic.Pools[0].Name != "general" {
		t.Errorf("plan %s", out)
	}
}

// The example sweep compares the autoscalers on one scenario: its inputs load, its pools
// satisfy every autoscaler it names, and each combination's run takes its flags.
func TestAutoscalersSweepExample(t *testing.T) {
	m, err := sweep.Load("../../../testdata/sweep/autoscalers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSweepInputs(m, nil); err != nil {
		t.Fatal(err)
	}
	combos := m.Combinations()
	if len(combos) != 6 || combos[4].Label != "seed=2 autoscaler=cluster-autoscaler[scale-down-unneeded-time=2m]" {
		t.Fatalf("combinations %d, [4] %q", len(combos), combos[4].Label)
	}
	run := newRunCommand(nil)
	if err := run.ParseFlags(combos[4].Args[1:]); err != nil {
		t.Errorf("run does not take %v: %v", combos[4].Args, err)
	}
}

// The autoscaling scenario's day, under each autoscaler, gives byte-identical reports (runtime
// and provenance aside) whatever the number of OS threads; and its outcome is the one the
// README describes: the pod no pool can take is reported with the reason under both, and
// Karpenter's consolidation costs less than cluster-autoscaler's scale-down for waits within
// one provisioning delay plus the loop's or the batch's interval.
func TestAutoscalingScenarioDeterministic(t *testing.T) {
	const dir = "../../../testdata/scenarios/autoscaling/"
	costs := map[string]float64{}
	for _, a := range []string{autoscaling.ClusterAutoscaler, autoscaling.Karpenter} {
		var first []byte
		for _, procs := range []int{1, 2} {
			prev := runtime.GOMAXPROCS(procs)
			code, out, errOut := kwoksim(t, "run", "-f", dir+"workloads.yaml", "-f", dir+"nodepool.yaml", "--trace", dir+"day.yaml",
				"--until", "12h", "--autoscaler", a, "-o", "json")
			runtime.GOMAXPROCS(prev)
			if code != exitOK {
				t.Fatalf("%s: exit %d: %s", a, code, errOut)
			}
			r := decodeReport(t, out)
			r.Runtime, r.Provenance = analysis.Runtime{}, nil
			got, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = got
				s := r.Autoscaling
				if s == nil || s.Autoscaler != a || len(s.NoScaleUp) != 1 || s.NoScaleUp[0].Name != "ssd-cache" ||
					!strings.Contains(s.NoScaleUp[0].Reason, "didn't match Pod's node affinity/selector") {
					t.Fatalf("%s: autoscaling section %+v", a, s)
				}
				// The most a pod waits: the pool's longest provisioning delay (90 s) plus
				// cluster-autoscaler's scan interval (10 s) or Karpenter's batch idle time (1 s).
				bound := map[string]float64{autoscaling.ClusterAutoscaler: 100, autoscaling.Karpenter: 91}[a]
				if s.CapacityWait.Count != 29 || s.CapacityWait.Max > bound {
					t.Errorf("%s: capacity wait %+v, want 29 pods within %v s", a, s.CapacityWait, bound)
				}
				costs[a] = s.Cost
				continue
			}
			if !bytes.Equal(first, got) {
				t.Fatalf("%s with GOMAXPROCS=%d differs:\n%s", a, procs, workloadstest.FirstDifference(first, got))
			}
		}
	}
	if costs[autoscaling.Karpenter] >= costs[autoscaling.ClusterAutoscaler] {
		t.Errorf("costs %v: want Karpenter's consolidation to cost less than cluster-autoscaler's scale-down", costs)
	}
}
