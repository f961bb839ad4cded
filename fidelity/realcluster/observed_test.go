package realcluster

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/kwoksim/kwoksim/fidelity"
)

// The recorded observations are whole and consistent: what the recorder promises of every
// observed.json, whatever the cluster did. A file recorded by an older or broken recorder, or
// edited by hand, fails here with the scenario and the figure.
func TestObservedFiles(t *testing.T) {
	suite, err := fidelity.LoadSuite("../../testdata/fidelity")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range suite {
		t.Run(s.Name, func(t *testing.T) {
			b, err := os.ReadFile(s.ObservedFile())
			if err != nil {
				t.Fatalf("not recorded (make record-real RECORDARGS='-scenarios %s'): %v", s.Name, err)
			}
			var o fidelity.Observation
			if err := json.Unmarshal(b, &o); err != nil {
				t.Fatal(err)
			}
			if o.Scenario != s.Name || o.Source != "real" || o.Command == "" || o.RecordedOn == "" {
				t.Errorf("header: scenario %q source %q command %q recordedOn %q", o.Scenario, o.Source, o.Command, o.RecordedOn)
			}
			for k, v := range Versions {
				if o.Versions[k] != v {
					t.Errorf("version of %s: %q, want %q", k, o.Versions[k], v)
				}
			}
			if len(o.Runs) != s.Repeats {
				t.Errorf("%d runs, the scenario says repeats %d", len(o.Runs), s.Repeats)
			}
			for i, r := range o.Runs {
				checkRun(t, s, i+1, r)
			}
		})
	}
}

func checkRun(t *testing.T, s *fidelity.Scenario, run int, r fidelity.Run) {
	t.Helper()
	if r.Duration != s.Duration.Seconds() {
		t.Errorf("run %d: duration %v, want %v", run, r.Duration, s.Duration.Seconds())
	}
	// Events are recorded until the duration and not after (a few ms of slack: the last
	// event may be received while the recording stops).
	end := r.Duration + 0.5
	nodes := map[string]bool{}
	for _, n := range r.Nodes {
		nodes[n.Name] = true
		for j, c := range n.Changes {
			if c.At < 0 || c.At > end || (j > 0 && (c.At < n.Changes[j-1].At || c.Seq <= n.Changes[j-1].Seq)) {
				t.Errorf("run %d: node %s: change %d at %v seq %d out of order", run, n.Name, j, c.At, c.Seq)
			}
		}
	}
	if len(r.Pods) == 0 {
		t.Errorf("run %d: no pods", run)
	}
	for _, p := range r.Pods {
		// created ≤ scheduled ≤ running, created ≤ deletion requested ≤ gone.
		seq := [][2]*float64{{p.Created, p.Scheduled}, {p.Scheduled, p.Running}, {p.Created, p.DeletionRequested}, {p.DeletionRequested, p.Gone}}
		for _, pair := range seq {
			if pair[0] != nil && pair[1] != nil && *pair[1] < *pair[0] {
				t.Errorf("run %d: pod %s: times out of order: created %s scheduled %s running %s deletionRequested %s gone %s",
					run, p.Name, sec(p.Created), sec(p.Scheduled), sec(p.Running), sec(p.DeletionRequested), sec(p.Gone))
			}
		}
		if p.Created == nil || *p.Created > end {
			t.Errorf("run %d: pod %s: created %s", run, p.Name, sec(p.Created))
		}
		if (p.Node == "") != (p.Scheduled == nil) || (p.Node != "" && !nodes[p.Node]) {
			t.Errorf("run %d: pod %s: node %q scheduled %s", run, p.Name, p.Node, sec(p.Scheduled))
		}
		if (p.Gone == nil) == (p.Phase == "") {
			t.Errorf("run %d: pod %s: gone %s but phase %q", run, p.Name, sec(p.Gone), p.Phase)
		}
		if p.Owner == "" {
			t.Errorf("run %d: pod %s has no controller: the suite makes every pod through a workload", run, p.Name)
		}
	}
	for _, w := range r.Workloads {
		if len(w.Sizes) == 0 {
			t.Errorf("run %d: %s %s: no sizes", run, w.Kind, w.Name)
		}
		for j := 1; j < len(w.Sizes); j++ {
			a, b := w.Sizes[j-1], w.Sizes[j]
			if b.At < a.At || b.Seq <= a.Seq || (a.Replicas == b.Replicas && a.Current == b.Current && a.Ready == b.Ready) {
				t.Errorf("run %d: %s %s: size %d %+v after %+v", run, w.Kind, w.Name, j, b, a)
			}
		}
	}
	for _, h := range r.HPAs {
		if h.Target == "" {
			t.Errorf("run %d: HPA %s: no target (its own watch event was never recorded)", run, h.Name)
		}
		for _, e := range h.Events {
			if e.Count < 1 || e.Type == "" || e.Reason == "" || e.First < 0 || e.Last < e.First || e.Last > end {
				t.Errorf("run %d: HPA %s: event %+v", run, h.Name, e)
			}
		}
		for _, c := range h.Conditions {
			if c.Type == "" || c.Status == "" || c.Reason == "" {
				t.Errorf("run %d: HPA %s: condition %+v", run, h.Name, c)
			}
		}
	}
}

func sec(v *float64) string {
	if v == nil {
		return "never"
	}
	return strconv.FormatFloat(*v, 'f', 3, 64)
}
