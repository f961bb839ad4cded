package load_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/load"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// solo is a bare pod using 401m and 64Mi, Running and Ready 5 s after binding, with two
// containers requesting 100m and 300m of CPU and no memory.
func solo() *corev1.Pod {
	c := func(name, cpu string) corev1.Container {
		return corev1.Container{Name: name, Image: "app:1", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}}
	}
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "solo", Namespace: "default", Labels: map[string]string{"app": "solo"},
			Annotations: map[string]string{load.CPUUsageAnnotation: "401m", load.MemoryUsageAnnotation: "64Mi", "kwoksim.io/ready-after": "5s"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{c("a", "100m"), c("b", "300m")}},
	}
}

type metricsCase struct {
	app, container string
	res            corev1.ResourceName
	want           map[string]int64 // nil: the no-metrics error
}

func checkMetrics(t *testing.T, s *sim.Simulator, when time.Duration, cases []metricsCase) {
	t.Helper()
	m := load.Of(s)
	for _, c := range cases {
		got, err := m.Metrics("default", selector(c.app), c.res, c.container)
		if c.want == nil {
			if err == nil || err.Error() != "no metrics returned from resource metrics API" {
				t.Errorf("at %v, %s %s %q: %v, %v; want upstream's no-metrics error", when, c.app, c.res, c.container, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("at %v, %s %s %q: %v", when, c.app, c.res, c.container, err)
			continue
		}
		values := map[string]int64{}
		for name, pm := range got {
			values[name] = pm.Value
		}
		if !sameMap(values, c.want) {
			t.Errorf("at %v, %s %s %q: %v, want %v", when, c.app, c.res, c.container, values, c.want)
		}
	}
}

// Annotated pods use their annotation while Running, Ready or not; a container's part is in
// proportion to the requests; a load operation's demand wins over the annotation for its
// resource only; the record names the top controller.
func TestAnnotatedUsage(t *testing.T) {
	s := slowSim(t, 30*time.Second)
	workloadstest.Create(t, s, solo(), web("api", 2, map[string]string{load.CPUUsageAnnotation: "250m"}))
	var api []string
	const mi64 = 64 << 20 * 1000 // 64Mi in milli-bytes
	at(s, 2*time.Second, func() {
		checkMetrics(t, s, 2*time.Second, []metricsCase{
			{app: "solo", res: corev1.ResourceCPU}, // bound, Pending: not listed
		})
	})
	at(s, 10*time.Second, func() {
		ready, running := podStates(t, s, "api")
		if len(ready) != 2 || len(running) != 2 {
			t.Fatalf("api: %d Ready, %d Running at 10 s, want 2 and 2", len(ready), len(running))
		}
		api = ready
		checkMetrics(t, s, 10*time.Second, []metricsCase{
			{"solo", "", corev1.ResourceCPU, map[string]int64{"solo": 401}},
			// 401 × 100/400 = 100.25 and 401 × 300/400 = 300.75: floors 100 and 300, the
			// unit left to the first container.
			{"solo", "a", corev1.ResourceCPU, map[string]int64{"solo": 101}},
			{"solo", "b", corev1.ResourceCPU, map[string]int64{"solo": 300}},
			{"solo", "c", corev1.ResourceCPU, map[string]int64{}}, // no such container: left out, no error
			{"solo", "", corev1.ResourceMemory, map[string]int64{"solo": mi64}},
			// No container requests memory: all of it on the first.
			{"solo", "a", corev1.ResourceMemory, map[string]int64{"solo": mi64}},
			{"solo", "b", corev1.ResourceMemory, map[string]int64{"solo": 0}},
			{"api", "", corev1.ResourceCPU, map[string]int64{api[0]: 250, api[1]: 250}},
			{"api", "", corev1.ResourceMemory, nil}, // no memory annotation: no data
			{"api", "", corev1.ResourceEphemeralStorage, nil},
			{"none", "", corev1.ResourceCPU, nil},
		})
	})
	at(s, 20*time.Second, func() {
		p := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", api[0]).DeepCopy()
		for i := range p.Status.Conditions {
			if p.Status.Conditions[i].Type == corev1.PodReady {
				p.Status.Conditions[i].Status = corev1.ConditionFalse
			}
		}
		if _, err := s.API().UpdateStatus(p); err != nil {
			t.Fatal(err)
		}
	})
	at(s, 25*time.Second, func() {
		checkMetrics(t, s, 25*time.Second, []metricsCase{
			{"api", "", corev1.ResourceCPU, map[string]int64{api[0]: 250, api[1]: 250}}, // Running, not Ready: still 250m
		})
	})
	at(s, 27*time.Second, func() {
		if err := load.Of(s).SetDemand(load.Ref{Kind: "Deployment", Namespace: "default", Name: "api"}, nil, q("3")); err != nil {
			t.Fatal(err)
		}
		checkMetrics(t, s, 27*time.Second, []metricsCase{
			{"api", "", corev1.ResourceCPU, map[string]int64{api[0]: 250, api[1]: 250}},   // the annotation still
			{"api", "", corev1.ResourceMemory, map[string]int64{api[0]: 0, api[1]: 3000}}, // the demand, on the Ready pod
		})
	})
	run(t, s)

	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	step := func(at time.Duration, cpu, mem, reqCPU, reqMem int64, ready int32) analysis.WorkloadUsageStep {
		return analysis.WorkloadUsageStep{UsageStep: analysis.UsageStep{At: at, CPU: cpu, Memory: mem, RequestedCPU: reqCPU, RequestedMemory: reqMem}, ReadyPods: ready}
	}
	const req256 = 256 << 20
	want := []analysis.WorkloadUsageRecord{
		{Kind: "Pod", Namespace: "default", Name: "solo", Steps: []analysis.WorkloadUsageStep{step(5*time.Second, 401, 64<<20, 400, 0, 1)}},
		{Kind: "Deployment", Namespace: "default", Name: "api",
			Loads: []analysis.LoadStep{{At: 27 * time.Second, CPU: -1, Memory: 3}},
			Steps: []analysis.WorkloadUsageStep{
				step(5*time.Second, 500, 0, 1000, 0, 2),
				step(20*time.Second, 500, 0, 1000, 0, 1),
				// The demand's memory, with the Ready pod's memory request; ReadyPods are the
				// pods sharing the demand.
				step(27*time.Second, 500, 3, 1000, req256, 1),
			}},
	}
	if obs.Usage == nil || fmt.Sprint(obs.Usage.Workloads) != fmt.Sprint(want) {
		t.Errorf("workloads:\n%+v\nwant\n%+v", obs.Usage, want)
	}
	cluster := []analysis.UsageStep{{}, {At: 5 * time.Second, CPU: 901, Memory: 64 << 20, RequestedCPU: 1400},
		{At: 27 * time.Second, CPU: 901, Memory: 64<<20 + 3, RequestedCPU: 1400, RequestedMemory: req256}}
	if obs.Usage != nil && fmt.Sprint(obs.Usage.Cluster) != fmt.Sprint(cluster) {
		t.Errorf("cluster:\n%v\nwant\n%v", obs.Usage.Cluster, cluster)
	}
}

// SetDemand refuses a workload that does not exist, as the trace's other operations word it,
// and a kind without a pod selector; a run without usage data records none.
func TestSetDemandErrorsAndNoUsage(t *testing.T) {
	s := slowSim(t, 10*time.Second)
	workloadstest.Create(t, s, web("web", 2, nil))
	m := load.Of(s)
	if m != load.Of(s) {
		t.Fatal("Of made a second model")
	}
	for _, tc := range []struct {
		ref  load.Ref
		want string
	}{
		{load.Ref{Kind: "Deployment", Namespace: "default", Name: "nope"}, "Deployment default/nope not found"},
		{load.Ref{Kind: "StatefulSet", Namespace: "other", Name: "web"}, "StatefulSet other/web not found"},
		{load.Ref{Kind: "Job", Namespace: "default", Name: "web"}, `load: kind "Job" does not select pods`},
	} {
		if err := m.SetDemand(tc.ref, q("1"), nil); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("SetDemand(%v) = %v, want %q", tc.ref, err, tc.want)
		}
	}
	if err := m.SetDemand(load.Ref{Kind: "Deployment", Namespace: "default", Name: "web"}, q("-1"), nil); err == nil {
		t.Error("a negative demand was accepted")
	}
	run(t, s)
	if _, err := m.Metrics("default", selector("web"), corev1.ResourceCPU, ""); err == nil || err.Error() != "no metrics returned from resource metrics API" {
		t.Errorf("Metrics without usage data: %v", err)
	}
	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	if obs.Usage != nil {
		t.Errorf("usage record %+v for a run without usage data, want nil", obs.Usage)
	}
}
