package workloads_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

var benchHPAs = flag.Int("bench-hpas", 20, "Deployments, each with an HPA, in BenchmarkHPA")

// BenchmarkHPA measures what the HPA controller and the load model cost a run: N Deployments
// of 500m pods, each with an HPA (50 % CPU, 2 to 40 replicas), over 12 hours of a daily load
// curve (a load operation per Deployment every 10 minutes, between 1 and 12 CPU), on enough
// fixed nodes for the peak; against the same Deployments and trace without the HPAs (the
// load model still runs; the replicas stay at 2), in the same process. It reports each
// variant's wall seconds, their ratio, the reconciles and the wall time per reconcile beyond
// the baseline.
func BenchmarkHPA(b *testing.B) {
	n := *benchHPAs
	dir := b.TempDir()
	var trace strings.Builder
	trace.WriteString("apiVersion: kwoksim/v1alpha1\nkind: Trace\nevents:\n")
	for step := 0; step < 72; step++ {
		// A day's shape over 12 h: low at night, a peak mid-way, each Deployment shifted.
		for i := range n {
			phase := (step + 3*i) % 72
			cpu := 1 + 11*min(phase, 72-phase)/36
			fmt.Fprintf(&trace, "- {at: %dm, load: {kind: Deployment, namespace: default, name: web-%d, cpu: \"%d\"}}\n", 10*step, i, cpu)
		}
	}
	tracePath := filepath.Join(dir, "day.yaml")
	if err := os.WriteFile(tracePath, []byte(trace.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	scenario := func(withHPAs bool) workloads.Scenario {
		sc := workloads.Scenario{Config: sim.Config{Seed: 1, Until: 12 * time.Hour}, Traces: []string{tracePath}}
		for i := range (n*40*500+31_999)/32_000 + 1 {
			sc.Nodes = append(sc.Nodes, manifest.Object{Obj: workloadstest.KWOKNode(fmt.Sprintf("node-%d", i), "32")})
		}
		for i := range n {
			name := fmt.Sprintf("web-%d", i)
			d := cpuDeployment(name, 2, "500m")
			d.Spec.Selector.MatchLabels = map[string]string{"app": name}
			d.Spec.Template.Labels = map[string]string{"app": name}
			sc.Workloads = append(sc.Workloads, manifest.Object{Obj: d})
			if withHPAs {
				sc.Workloads = append(sc.Workloads, manifest.Object{Obj: &autoscalingv2.HorizontalPodAutoscaler{
					TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
					ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
					Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
						ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
						MinReplicas:    ptr.To[int32](2), MaxReplicas: 40,
						Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
							Name: "cpu", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](50)}}}},
					}}})
			}
		}
		return sc
	}
	secs := map[bool]float64{}
	reconciles := 0
	for range b.N {
		for _, with := range []bool{false, true} {
			start := time.Now()
			r, err := workloads.Run(context.Background(), scenario(with))
			if err != nil {
				b.Fatal(err)
			}
			d := time.Since(start).Seconds()
			if old, ok := secs[with]; !ok || d < old {
				secs[with] = d
			}
			if with {
				reconciles = 0
				rescales := 0
				for _, h := range r.HorizontalPodAutoscalers.HPAs {
					reconciles += h.Reconciles
					rescales += len(h.Rescales)
				}
				if rescales == 0 {
					b.Fatal("the HPAs never rescaled")
				}
				b.Logf("%d HPAs: %d reconciles, %d rescales, %d pods created", n, reconciles, rescales, r.Summary.Pods.Total)
			}
		}
	}
	b.ReportMetric(secs[false], "without-s")
	b.ReportMetric(secs[true], "with-hpas-s")
	b.ReportMetric(secs[true]/secs[false], "with/without")
	if reconciles > 0 {
		b.ReportMetric((secs[true]-secs[false])/float64(reconciles)*1e6, "µs/reconcile")
	}
}
