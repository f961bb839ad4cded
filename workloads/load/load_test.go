package load_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/load"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// slowSim is a simulator whose pods annotated kwoksim.io/ready-after become Running and Ready
// that long after binding, and whose pods annotated kwoksim.io/delete-after take that long
// to go (workloadstest.SlowStages), on one node with room for 20 CPUs, run for until.
func slowSim(t *testing.T, until time.Duration) *sim.Simulator {
	t.Helper()
	extra, err := stages.Parse([]byte(workloadstest.SlowStages), "slow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := workloadstest.Sim(t, sim.Config{Seed: 5, Stages: append(stages.Default(), extra...), Until: until})
	workloadstest.Create(t, s, workloadstest.CPUNode("n1", 20))
	return s
}

// web is a Deployment of pods labelled app=name requesting 500m and 256Mi, Ready 5 s after
// binding, 3 s to go, with the template annotations given.
func web(name string, replicas int32, annotations map[string]string) *appsv1.Deployment {
	d := workloadstest.Deployment(name, replicas)
	a := map[string]string{"kwoksim.io/ready-after": "5s", "kwoksim.io/delete-after": "3s"}
	for k, v := range annotations {
		a[k] = v
	}
	d.Spec.Template.Annotations = a
	d.Spec.Template.Spec.Containers[0].Resources.Requests = corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")}
	return d
}

func q(s string) *resource.Quantity {
	v := resource.MustParse(s)
	return &v
}

func selector(app string) labels.Selector { return labels.SelectorFromSet(labels.Set{"app": app}) }

// at runs f at virtual time d.
func at(s *sim.Simulator, d time.Duration, f func()) { s.Clock().At(sim.Epoch.Add(d), f) }

func run(t *testing.T, s *sim.Simulator) {
	t.Helper()
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
}

// podStates reads the app's pods from the apiserver: the names of those sharing a demand
// (Ready condition True, no deletionTimestamp), in name order, and of the Running ones.
func podStates(t *testing.T, s *sim.Simulator, app string) (ready, running []string) {
	t.Helper()
	for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
		if p.Labels["app"] != app {
			continue
		}
		if p.Status.Phase == corev1.PodRunning {
			running = append(running, p.Name)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
				ready = append(ready, p.Name)
			}
		}
	}
	sort.Strings(ready)
	return ready, running
}

// wantSplit is the split the load model documents, computed from the apiserver's pods: each
// Running pod reports demand/len(ready) if Ready, one unit more for the first demand%len(ready)
// Ready pods in name order, and 0 if not Ready; scale turns units into the metric's
// milli-units.
func wantSplit(ready, running []string, demand, scale int64) map[string]int64 {
	want := map[string]int64{}
	for _, name := range running {
		want[name] = 0
	}
	n := int64(len(ready))
	for i, name := range ready {
		v := demand / n
		if int64(i) < demand%n {
			v++
		}
		want[name] = v * scale
	}
	return want
}

func sameMap(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// A load operation's demand is shared among the workload's Ready pods, exactly (the remainder
// to the first pods in name order), and shared again as pods become Ready, stop being Ready,
// and terminate: checked at each stage against the pods the apiserver holds then.
func TestDemandSharedAmongReadyPods(t *testing.T) {
	s := slowSim(t, 70*time.Second)
	workloadstest.Create(t, s, web("web", 3, nil))
	m := load.Of(s)
	// 1001m over 3, 5, 4 and 2 pods leaves remainders 2, 1, 1 and 1; 1000 bytes of memory
	// over 3 leaves 1.
	if err := m.SetDemand(load.Ref{Kind: "Deployment", Namespace: "default", Name: "web"}, q("1001m"), q("1000")); err != nil {
		t.Fatal(err)
	}
	type check struct {
		at                 time.Duration
		wantReady, wantRun int
	}
	for _, c := range []check{
		{1 * time.Second, 0, 0},  // bound, not yet Running
		{10 * time.Second, 3, 3}, // Ready at 5 s
		{22 * time.Second, 3, 3}, // scaled to 5 at 20 s: two new pods not yet Running
		{30 * time.Second, 5, 5}, // all Ready at 25 s
		{45 * time.Second, 4, 5}, // one pod's Ready condition False at 40 s
		{51 * time.Second, 2, 5}, // scaled to 2 at 50 s: three pods terminating, still Running
		{60 * time.Second, 2, 2}, // gone at 53 s
	} {
		at(s, c.at, func() {
			ready, running := podStates(t, s, "web")
			if len(ready) != c.wantReady || len(running) != c.wantRun {
				t.Errorf("at %v: %d Ready and %d Running pods, want %d and %d (the scenario drifted)", c.at, len(ready), len(running), c.wantReady, c.wantRun)
			}
			for _, r := range []struct {
				res    corev1.ResourceName
				demand int64
				scale  int64
			}{{corev1.ResourceCPU, 1001, 1}, {corev1.ResourceMemory, 1000, 1000}} {
				got, err := m.Metrics("default", selector("web"), r.res, "")
				if len(running) == 0 {
					if err == nil || err.Error() != "no metrics returned from resource metrics API" {
						t.Errorf("at %v, %s: no pod is Running, err = %v, want upstream's no-metrics error", c.at, r.res, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("at %v: %v", c.at, err)
				}
				gotValues := map[string]int64{}
				var sum int64
				for name, pm := range got {
					gotValues[name] = pm.Value
					sum += pm.Value
					if pm.Window != load.MetricWindow || !pm.Timestamp.Equal(sim.Epoch.Add(c.at)) {
						t.Errorf("at %v: %s: timestamp %v window %v, want now and %v", c.at, name, pm.Timestamp, pm.Window, load.MetricWindow)
					}
				}
				want := wantSplit(ready, running, r.demand, r.scale)
				if !sameMap(gotValues, want) {
					t.Errorf("at %v, %s: metrics %v, want %v", c.at, r.res, gotValues, want)
				}
				if len(ready) > 0 && sum != r.demand*r.scale {
					t.Errorf("at %v, %s: the pods' usage sums to %d, want the demand %d", c.at, r.res, sum, r.demand*r.scale)
				}
			}
		})
	}
	workloadstest.PatchAt(t, s, 20*time.Second, "Deployment", "default", "web", `{"spec":{"replicas":5}}`)
	at(s, 40*time.Second, func() {
		ready, _ := podStates(t, s, "web")
		p := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", ready[0]).DeepCopy()
		for i := range p.Status.Conditions {
			if p.Status.Conditions[i].Type == corev1.PodReady {
				p.Status.Conditions[i].Status = corev1.ConditionFalse
			}
		}
		if _, err := s.API().UpdateStatus(p); err != nil {
			t.Fatal(err)
		}
	})
	workloadstest.PatchAt(t, s, 50*time.Second, "Deployment", "default", "web", `{"spec":{"replicas":2}}`)
	run(t, s)

	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	if obs.Usage == nil || len(obs.Usage.Workloads) != 1 {
		t.Fatalf("usage record %+v, want one workload", obs.Usage)
	}
	w := obs.Usage.Workloads[0]
	if w.Kind != "Deployment" || w.Namespace != "default" || w.Name != "web" {
		t.Errorf("workload %s %s/%s, want Deployment default/web", w.Kind, w.Namespace, w.Name)
	}
	if want := []analysis.LoadStep{{At: 0, CPU: 1001, Memory: 1000}}; fmt.Sprint(w.Loads) != fmt.Sprint(want) {
		t.Errorf("loads %v, want %v", w.Loads, want)
	}
	// The Ready pods request 500m and 256Mi each; the demand counts while one is Ready.
	step := func(at time.Duration, ready int32) analysis.WorkloadUsageStep {
		s := analysis.WorkloadUsageStep{UsageStep: analysis.UsageStep{At: at}, ReadyPods: ready}
		if ready > 0 {
			s.CPU, s.Memory = 1001, 1000
		}
		s.RequestedCPU, s.RequestedMemory = 500*int64(ready), 256<<20*int64(ready)
		return s
	}
	// The step at 50 s is one step for the three deletions at that instant.
	want := []analysis.WorkloadUsageStep{step(0, 0), step(5*time.Second, 3), step(25*time.Second, 5), step(40*time.Second, 4), step(50*time.Second, 2)}
	if fmt.Sprint(w.Steps) != fmt.Sprint(want) {
		t.Errorf("steps:\n%v\nwant\n%v", w.Steps, want)
	}
	var cluster []analysis.UsageStep
	for _, s := range want {
		cluster = append(cluster, s.UsageStep)
	}
	if fmt.Sprint(obs.Usage.Cluster) != fmt.Sprint(cluster) {
		t.Errorf("cluster:\n%v\nwant\n%v", obs.Usage.Cluster, cluster)
	}
}

// A loaded workload deleted and created again under its name keeps its demand, and its pods
// are those of its new selector.
func TestDemandFollowsARecreatedWorkload(t *testing.T) {
	s := slowSim(t, 40*time.Second)
	workloadstest.Create(t, s, web("web", 2, nil))
	m := load.Of(s)
	if err := m.SetDemand(load.Ref{Kind: "Deployment", Namespace: "default", Name: "web"}, q("1"), nil); err != nil {
		t.Fatal(err)
	}
	at(s, 10*time.Second, func() {
		k, _ := sim.KindNamed("Deployment")
		if err := s.API().Delete(k, "default", "web", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	at(s, 20*time.Second, func() {
		d := web("web", 2, nil)
		d.Spec.Selector.MatchLabels = map[string]string{"app": "web2"}
		d.Spec.Template.Labels = map[string]string{"app": "web2"}
		workloadstest.Create(t, s, d)
	})
	at(s, 30*time.Second, func() {
		ready, running := podStates(t, s, "web2")
		if len(ready) != 2 {
			t.Fatalf("%d Ready web2 pods at 30 s, want 2", len(ready))
		}
		got, err := m.Metrics("default", selector("web2"), corev1.ResourceCPU, "")
		if err != nil {
			t.Fatal(err)
		}
		values := map[string]int64{}
		for name, pm := range got {
			values[name] = pm.Value
		}
		if want := wantSplit(ready, running, 1000, 1); !sameMap(values, want) {
			t.Errorf("metrics %v, want %v", values, want)
		}
	})
	run(t, s)
}

// CPU contention: the Ready pods' shares of a demand are bounded by the node they run on and
// by their CPU limits, as a real node's CFS bounds them; the metrics the HPA reads are what
// the pods can use. Four pods of 500m requests on one 4-CPU node under a 6-CPU demand want
// 1500m each and get 1000m each (equal shares); with a 800m limit each, 800m.
func TestMetricsThrottledByNodeAndLimits(t *testing.T) {
	for _, c := range []struct {
		limit string
		want  int64
	}{{"", 1000}, {"800m", 800}} {
		s := workloadstest.Sim(t, sim.Config{Seed: 5, Stages: stages.Default(), Until: time.Minute})
		workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"))
		d := web("api", 4, nil)
		delete(d.Spec.Template.Annotations, "kwoksim.io/ready-after")
		if c.limit != "" {
			d.Spec.Template.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(c.limit)}
		}
		workloadstest.Create(t, s, d)
		m := load.Of(s)
		var got map[string]int64
		at(s, 10*time.Second, func() {
			if err := m.SetDemand(load.Ref{Kind: "Deployment", Namespace: "default", Name: "api"}, q("6"), nil); err != nil {
				t.Error(err)
			}
			pm, err := m.Metrics("default", selector("api"), corev1.ResourceCPU, "")
			if err != nil {
				t.Error(err)
			}
			got = map[string]int64{}
			for n, v := range pm {
				got[n] = v.Value
			}
		})
		run(t, s)
		if len(got) != 4 {
			t.Fatalf("limit %q: metrics of %d pods, want 4: %v", c.limit, len(got), got)
		}
		for n, v := range got {
			if v != c.want {
				t.Errorf("limit %q: %s uses %dm, want %dm", c.limit, n, v, c.want)
			}
		}
	}
}
