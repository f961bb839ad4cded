package sim

import (
	"bytes"
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kwoksim/kwoksim/analysis"
)

// podRequesting is pod(name) asking for cpu.
func podRequesting(name, cpu string) *corev1.Pod {
	p := pod(name)
	p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	return p
}

// bigNode is node(name) with 16 CPUs.
func bigNode(name string, taints ...corev1.Taint) *corev1.Node {
	n := node(name, taints...)
	n.Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("16")
	return n
}

func outcomeJSON(t *testing.T, o *analysis.SchedulingOutcome) string {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A failed cycle is recorded with its structured outcome beside the message: the status code,
// the plugins that rejected the pod, the nodes considered and how many each plugin rejected.
// The counts follow the fit error, whatever the order the filter goroutines finish in.
func TestFailedCycleRecordsTheOutcome(t *testing.T) {
	taint := corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule}
	pinned := podRequesting("pinned", "1")
	pinned.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"gone"}}},
		}}}}}
	claim := podRequesting("claim", "1")
	claim.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "missing"}}}}
	for _, tc := range []struct {
		name    string
		objs    []any
		message string
		want    string
	}{
		{
			// The tainted node has room: only its taint rejects it, at TaintToleration.
			name:    "filter",
			objs:    []any{bigNode("tainted", taint), node("small-1"), node("small-2"), podRequesting("p", "8")},
			message: "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
			want:    `{"Code":"Unschedulable","Plugins":["NodeResourcesFit","TaintToleration"],"PendingPlugins":null,"Nodes":3,"PluginNodes":[{"plugin":"NodeResourcesFit","nodes":2},{"plugin":"TaintToleration","nodes":1}]}`,
		},
		{
			// A PreFilter rejection holds no node: every node counts for its plugin. The
			// cycle's code is Unschedulable, whatever the plugin's.
			name:    "prefilter",
			objs:    []any{node("n1"), node("n2"), claim},
			message: `0/2 nodes are available: persistentvolumeclaim "missing" not found. not found`,
			want:    `{"Code":"Unschedulable","Plugins":["VolumeRestrictions"],"PendingPlugins":null,"Nodes":2,"PluginNodes":[{"plugin":"VolumeRestrictions","nodes":2}]}`,
		},
		{
			// A PreFilter result that leaves every node out names no plugin for them.
			name:    "prefilter result",
			objs:    []any{node("n1"), node("n2"), pinned},
			message: "0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
			want:    `{"Code":"Unschedulable","Plugins":["NodeAffinity"],"PendingPlugins":null,"Nodes":2,"PluginNodes":null}`,
		},
		{
			// Not a fit error: the code and nothing else.
			name:    "no nodes",
			objs:    []any{podRequesting("p", "1")},
			message: "no nodes available to schedule pods",
			want:    `{"Code":"UnschedulableAndUnresolvable","Plugins":null,"PendingPlugins":null,"Nodes":0,"PluginNodes":null}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, parallelism := range []int32{1, 16} {
				s := newSim(t, Config{Seed: 1, Parallelism: parallelism})
				mustCreate(t, s, tc.objs...)
				if err := s.Run(); err != nil {
					t.Fatal(err)
				}
				recs := s.Recorder().Pods()
				rec := recs[len(recs)-1]
				if rec.Pod.Spec.NodeName != "" || rec.Attempts == 0 {
					t.Fatalf("parallelism %d: pod on %q after %d attempts, want it tried and unschedulable", parallelism, rec.Pod.Spec.NodeName, rec.Attempts)
				}
				if tc.message != "" && rec.Reason != tc.message {
					t.Errorf("parallelism %d: reason = %q, want %q", parallelism, rec.Reason, tc.message)
				}
				if got := outcomeJSON(t, rec.Outcome); got != tc.want {
					t.Errorf("parallelism %d: outcome (reason %q)\n got %s\nwant %s", parallelism, rec.Reason, got, tc.want)
				}
			}
		})
	}
}

// The report's unschedulableReasons carry the outcome, and two runs write the same bytes.
func TestReportCarriesTheOutcome(t *testing.T) {
	report := func() []byte {
		s := newSim(t, Config{Seed: 1})
		taint := corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule}
		mustCreate(t, s, bigNode("tainted", taint), node("small-1"), node("small-2"),
			podRequesting("a", "8"), podRequesting("b", "8"), podRequesting("fits", "1"))
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		o, err := s.Observe()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := analysis.WriteJSON(&buf, analysis.Build(o)); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	first := report()
	if second := report(); !bytes.Equal(first, second) {
		t.Errorf("two runs wrote different reports:\n%s\n%s", first, second)
	}
	var r analysis.Report
	if err := json.Unmarshal(first, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.UnschedulableReasons) != 1 {
		t.Fatalf("unschedulableReasons = %+v, want one entry for a and b", r.UnschedulableReasons)
	}
	got, err := json.Marshal(r.UnschedulableReasons[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"reason":"0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.","count":2,` +
		`"code":"Unschedulable","plugins":["NodeResourcesFit","TaintToleration"],"nodes":3,` +
		`"pluginNodes":[{"plugin":"NodeResourcesFit","nodes":2},{"plugin":"TaintToleration","nodes":1}]}`
	if string(got) != want {
		t.Errorf("unschedulableReasons[0]\n got %s\nwant %s", got, want)
	}
}
