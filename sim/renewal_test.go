package sim

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/stages"
)

const heartbeat = "node-heartbeat-with-lease"

// heartbeats runs two nodes under the stage set and returns the simulator and the report's
// transition row of the named stage.
func heartbeats(t *testing.T, cfg Config, stage string, before func(*Simulator)) (*Simulator, analysis.TransitionReport) {
	t.Helper()
	if cfg.Stages == nil {
		cfg.Stages = stages.Default()
	}
	cfg.Seed = 7
	s := newSim(t, cfg)
	mustCreate(t, s, node("n1"), node("n2"))
	if before != nil {
		before(s)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	o, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	var row analysis.TransitionReport
	for _, tr := range analysis.Build(o).Transitions {
		if tr.Stage == stage {
			row = tr
		}
	}
	return s, row
}

// The default heartbeat only renews timestamps, so it is elided after its first transition:
// the run performs one heartbeat per node, yet the report counts as many as performing them
// all would, each waiting what the stage's delay allows.
func TestHeartbeatRenewalsAreElidedAndCounted(t *testing.T) {
	for _, keep := range []bool{false, true} {
		s, hb := heartbeats(t, Config{Until: 24 * time.Hour, KeepRenewals: keep}, heartbeat, nil)
		// Each node beats k times with k*600s <= 24h < (k+1)*610s: k in [141, 144].
		if hb.Count < 2*141 || hb.Count > 2*144 {
			t.Errorf("keep=%v: %d heartbeats over a day on 2 nodes, want 282..288", keep, hb.Count)
		}
		d := hb.DelaySeconds
		if d.P50 < 600 || d.Max >= 610 || d.P50 > d.P90 || d.P90 > d.P99 || d.P99 > d.Max {
			t.Errorf("keep=%v: heartbeat delays %+v, want ordered within [600s, 610s)", keep, d)
		}
		// Elided, each node runs node-initialize and its first heartbeat, whose own write
		// shows the next one to be a renewal; kept, every heartbeat runs.
		if n := s.Clock().Processed(); (!keep && n != 4) || (keep && n < 2+2*141) {
			t.Errorf("keep=%v: %d events processed", keep, n)
		}
	}
}

// The renewals are counted exactly at the boundaries the stage's delay range gives: the
// first beat is due in [600s, 610s) and the second in [1200s, 1220s).
func TestRenewalCountAtExactBounds(t *testing.T) {
	for _, c := range []struct {
		until time.Duration
		want  int
	}{
		{599 * time.Second, 0},
		{610 * time.Second, 2},
		{1199 * time.Second, 2},
		{1220 * time.Second, 4},
	} {
		_, hb := heartbeats(t, Config{Until: c.until}, heartbeat, nil)
		if hb.Count != c.want {
			t.Errorf("until %v: %d heartbeats on 2 nodes, want %d", c.until, hb.Count, c.want)
		}
	}
}

// A write to the node replaces its pending heartbeat, as in KWOK: the elided chain is
// counted up to the write and starts again from it. n1 beats once before the write at 1000s
// and next in [1600s, 1610s); n2, untouched, beats at [600s, 610s) and [1200s, 1220s).
func TestWriteRestartsRenewals(t *testing.T) {
	label := func(s *Simulator) {
		s.Clock().At(Epoch.Add(1000*time.Second), func() {
			if _, err := s.API().Patch(kinds["Node"], "", "n1", types.MergePatchType, []byte(`{"metadata":{"labels":{"zone":"b"}}}`), ""); err != nil {
				t.Error(err)
			}
		})
	}
	_, hb := heartbeats(t, Config{Until: 1599 * time.Second}, heartbeat, label)
	if hb.Count != 3 {
		t.Errorf("%d heartbeats by 1599s, want 1 (n1) + 2 (n2)", hb.Count)
	}
	_, hb = heartbeats(t, Config{Until: 1610 * time.Second}, heartbeat, label)
	if hb.Count != 4 {
		t.Errorf("%d heartbeats by 1610s, want 2 (n1) + 2 (n2)", hb.Count)
	}
}

// A periodic stage is performed one transition at a time when something could tell one
// renewal from the next; the plain beat, the control, is elided after its first transition
// (which adds the condition).
func TestRenewalsThatShowAreNotElided(t *testing.T) {
	// beat renews a condition's heartbeat every minute; each case adds what makes its
	// renewals visible.
	beat := func(delay, steps string) string {
		return `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: beat}
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - {key: .metadata.name, operator: Exists}
  delay: ` + delay + `
  steps:
  - patch:
      root: status
      subresource: status
      template: |
        conditions:
        - {type: Ready, status: "True", reason: Beat, message: beat, lastHeartbeatTime: {{ Now | Quote }}}
` + steps
	}
	const minute = `{durationMilliseconds: 60000}`
	for _, c := range []struct {
		name, stages string
		elided       bool
	}{
		{"plain beat", beat(minute, ``), true},
		{"an event each time", beat(minute, `
  - event: {type: Normal, reason: Beat, message: beat}
`), false},
		{"a delay read from the object", beat(`{durationMilliseconds: 60000, durationFrom: {expressionFrom: '.metadata.annotations["delay"]'}}`, ``), false},
		{"a change besides timestamps", beat(minute, `
  - patch:
      type: merge
      template: |
        metadata: {annotations: {seen: {{ .metadata.resourceVersion | Quote }}}}
`), false},
		{"another stage matching too", beat(minute, ``) + `
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: other}
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - {key: .metadata.name, operator: In, values: [n1, n2]}
  delay: {durationMilliseconds: 60000}
  next:
    statusTemplate: |
      conditions:
      - {type: Ready, status: "True", reason: Other, message: other, lastHeartbeatTime: {{ Now | Quote }}}
`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			set, err := stages.Parse([]byte(c.stages), "test.yaml")
			if err != nil {
				t.Fatal(err)
			}
			s := newSim(t, Config{Seed: 7, Until: time.Hour, Stages: set})
			mustCreate(t, s, node("n1"), node("n2"))
			if err := s.Run(); err != nil {
				t.Fatal(err)
			}
			// A transition a minute on each node: each one performed, or only the first.
			n := len(s.Transitions())
			if c.elided && n != 2 {
				t.Errorf("%d transitions performed in an hour, want the first on each node", n)
			}
			if !c.elided && n < 2*59 {
				t.Errorf("%d transitions performed in an hour, want every one on both nodes", n)
			}
		})
	}
}
