package workloads_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/controlplane"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/trace"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// startTrace writes a YAML trace of the given events and replays it on s (not strict: an
// event that fails is a trace error in the observation).
func startTrace(t *testing.T, s *sim.Simulator, events string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trace.yaml")
	if err := os.WriteFile(path, []byte("apiVersion: kwoksim/v1alpha1\nkind: Trace\nevents:\n"+events), 0o644); err != nil {
		t.Fatal(err)
	}
	rp, err := trace.Start(s, []string{path}, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rp.Close)
}

// createAt creates objects at a virtual time.
func createAt(t *testing.T, s *sim.Simulator, at time.Duration, objs ...*corev1.Node) {
	s.Clock().At(sim.Epoch.Add(at), func() {
		for _, o := range objs {
			if _, err := s.API().Create(o); err != nil {
				t.Errorf("creating %s at %v: %v", o.Name, at, err)
			}
		}
	})
}

// A node deleted at T=30s (trace `fail: {mode: delete}`), holding both pods of a Deployment.
// Upstream (pkg/controller/podgc/gc_controller.go): gc runs every gcCheckPeriod = 20 s from
// the controller's start (wait.UntilWithContext, first pass at once): passes at 0, 20, 40, …
// The pass at 40 s sees the pods bound to a node absent from the node list and queues the
// node with AddAfter(quarantineTime = 40 s): ready at 80 s. The pass at 80 s takes it, Gets
// it (NotFound) and, for each pod, markFailedAndDeletePodWithCondition: phase Failed with the
// DisruptionTarget condition (DeletionByPodGC, "PodGC: node no longer exists"), then a delete
// with grace period 0. The ReplicaSet replaces both at 80 s, on n2, the only node left.
// Nothing else is pending after 30 s, so the passes at 40, 60 and 80 s must be foreground for
// the run to get there.
func TestPodGCDeletesPodsOfADeletedNode(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default()})
	workloadstest.Create(t, s, workloadstest.CPUNode("n1", 4), workloadstest.Deployment("web", 2))
	createAt(t, s, 10*time.Second, workloadstest.CPUNode("n2", 4))
	startTrace(t, s, "- at: 30s\n  fail: {node: n1, mode: delete}\n")
	log := workloadstest.WatchPods(s)
	var last = map[string]*corev1.Pod{}
	s.API().Watch(func(ev sim.WatchEvent) {
		if p, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Deleted {
			last[p.Name] = p
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	var old, replacements []string
	for _, rec := range obs.Pods {
		switch rec.Pod.Spec.NodeName {
		case "n1":
			old = append(old, rec.Pod.Name)
			if rec.DeletedAt == nil || *rec.DeletedAt != 80*time.Second {
				t.Errorf("%s on the deleted node: deleted at %v, want 80s", rec.Pod.Name, rec.DeletedAt)
			}
		case "n2":
			replacements = append(replacements, rec.Pod.Name)
			if rec.CreatedAt == nil || *rec.CreatedAt != 80*time.Second || rec.DeletedAt != nil || rec.Pod.Status.Phase != corev1.PodRunning {
				t.Errorf("replacement %s: created at %v, deleted at %v, phase %s; want created at 80s and Running", rec.Pod.Name, rec.CreatedAt, rec.DeletedAt, rec.Pod.Status.Phase)
			}
		default:
			t.Errorf("pod %s on node %q", rec.Pod.Name, rec.Pod.Spec.NodeName)
		}
	}
	if len(old) != 2 || len(replacements) != 2 {
		t.Fatalf("pods on n1 %v, on n2 %v; want 2 and 2", old, replacements)
	}
	slices.Sort(old) // a pass deletes in the apiserver's list order (namespace, name)
	for _, name := range old {
		p := last[name]
		if p == nil {
			t.Fatalf("%s: no Deleted event", name)
		}
		if p.Status.Phase != corev1.PodFailed {
			t.Errorf("%s: last phase %s, want Failed", name, p.Status.Phase)
		}
		i := slices.IndexFunc(p.Status.Conditions, func(c corev1.PodCondition) bool { return c.Type == corev1.DisruptionTarget })
		if i < 0 {
			t.Fatalf("%s: no DisruptionTarget condition: %+v", name, p.Status.Conditions)
		}
		c := p.Status.Conditions[i]
		if c.Status != corev1.ConditionTrue || c.Reason != "DeletionByPodGC" || c.Message != "PodGC: node no longer exists" ||
			!c.LastTransitionTime.Time.Equal(sim.Epoch.Add(80*time.Second)) {
			t.Errorf("%s: DisruptionTarget %+v, want True/DeletionByPodGC/\"PodGC: node no longer exists\" at 80s", name, c)
		}
	}
	var gone []string
	for _, e := range *log {
		if e.What == "gone" {
			gone = append(gone, e.String())
		}
	}
	if want := []string{old[0] + " gone@1m20s", old[1] + " gone@1m20s"}; !slices.Equal(gone, want) {
		t.Errorf("removals %v, want %v", gone, want)
	}
	if len(obs.TraceErrors) != 0 {
		t.Errorf("trace errors: %+v", obs.TraceErrors)
	}
}

// Terminated pods beyond --terminated-pod-gc-threshold go, oldest first (gcTerminated,
// byEvictionAndCreationTimestamp). Threshold 1; three bare pods created at 0, 1 and 2 s that
// run for 30 s (kwoksim.io/run-duration): they succeed at 30, 31 and 32 s. The next pass,
// at 40 s, finds 3 terminated pods, 2 over the threshold, and deletes the two oldest, p0 and
// p1; p2 stays. The pass is foreground (the second completion made the count exceed the
// threshold), so the run gets to it; after it the idle passes are background and the run
// ends at 40 s.
func TestPodGCTerminatedThreshold(t *testing.T) {
	flags := controlplane.Defaults()
	flags.TerminatedPodGCThreshold = 1
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default(), ControlPlane: &flags})
	workloadstest.Create(t, s, workloadstest.CPUNode("n1", 4))
	for i, name := range []string{"p0", "p1", "p2"} {
		p := barePod(name, "100m", nil)
		p.Annotations = map[string]string{"kwoksim.io/run-duration": "30s"}
		s.Clock().At(sim.Epoch.Add(time.Duration(i)*time.Second), func() {
			if _, err := s.API().Create(p); err != nil {
				t.Error(err)
			}
		})
	}
	log := workloadstest.WatchPods(s)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	var gone []string
	for _, e := range *log {
		if e.What == "gone" {
			gone = append(gone, e.String())
		}
	}
	if want := []string{"p0 gone@40s", "p1 gone@40s"}; !slices.Equal(gone, want) {
		t.Errorf("removals %v, want %v", gone, want)
	}
	if p := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", "p2"); p.Status.Phase != corev1.PodSucceeded {
		t.Errorf("p2: phase %s, want Succeeded", p.Status.Phase)
	}
	if end := s.Elapsed(); end != 40*time.Second {
		t.Errorf("run ended at %v, want 40s", end)
	}
}
