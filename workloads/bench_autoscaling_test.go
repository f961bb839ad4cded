package workloads_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

var (
	benchAutoscalePods = flag.Int("bench-autoscale-pods", 500, "step pods in BenchmarkAutoscaling")
	benchAutoscaleOnly = flag.String("bench-autoscale-only", "", "run one variant of BenchmarkAutoscaling (fixed, cluster-autoscaler or karpenter), e.g. to profile it alone")
)

// BenchmarkAutoscaling measures what node autoscaling costs a run: a 12-hour day in which a
// Deployment of 2-CPU pods steps from 0 to N at 1h, to N/10 at 5h and to 0 at 9h (the shape
// of testdata/scenarios/autoscaling, scaled), under cluster-autoscaler and under Karpenter,
// against the same trace on a fixed cluster of enough 32-CPU nodes for the peak (no
// autoscaler), in the same process. It reports each variant's wall seconds and its ratio to
// the fixed cluster.
func BenchmarkAutoscaling(b *testing.B) {
	n := *benchAutoscalePods
	dir := b.TempDir()
	tracePath := filepath.Join(dir, "day.yaml")
	traceDoc := fmt.Sprintf(`apiVersion: kwoksim/v1alpha1
kind: Trace
events:
- {at: 1h, scale: {kind: Deployment, namespace: default, name: step, replicas: %d}}
- {at: 5h, scale: {kind: Deployment, namespace: default, name: step, replicas: %d}}
- {at: 9h, scale: {kind: Deployment, namespace: default, name: step, replicas: 0}}
`, n, n/10)
	if err := os.WriteFile(tracePath, []byte(traceDoc), 0o644); err != nil {
		b.Fatal(err)
	}
	peakNodes := (n*2+31)/32 + 1
	pool, err := autoscaling.Decode([]byte(fmt.Sprintf(`apiVersion: kwoksim/v1alpha1
kind: NodePool
metadata: {name: general}
spec:
  min: 1
  max: %d
  shapes:
  - {name: c8, capacity: {cpu: "8", memory: 32Gi}, pricePerHour: 0.40}
  - {name: c32, capacity: {cpu: "32", memory: 128Gi}, pricePerHour: 1.50}
  provisioning: {delay: {min: 60s, max: 90s}}
`, 4*peakNodes)))
	if err != nil {
		b.Fatal(err)
	}
	scenario := func(autoscaler string) workloads.Scenario {
		sc := workloads.Scenario{Config: sim.Config{Seed: 1, Until: 12 * time.Hour}, Traces: []string{tracePath},
			Workloads: []manifest.Object{{Obj: cpuDeployment("step", 0, "2")}}}
		if autoscaler == "" {
			for i := range peakNodes {
				node, err := pool.Node("c32", i)
				if err != nil {
					b.Fatal(err)
				}
				sc.Nodes = append(sc.Nodes, manifest.Object{Obj: node})
			}
			return sc
		}
		sc.NodePools = []manifest.Object{{Obj: pool}}
		sc.Autoscaling = autoscaling.DefaultOptions()
		sc.Autoscaling.Autoscaler = autoscaler
		return sc
	}
	variants := []struct{ name, autoscaler string }{{"fixed", ""}, {"cluster-autoscaler", autoscaling.ClusterAutoscaler}, {"karpenter", autoscaling.Karpenter}}
	secs := map[string]float64{}
	for range b.N {
		for _, v := range variants {
			if *benchAutoscaleOnly != "" && v.name != *benchAutoscaleOnly {
				continue
			}
			start := time.Now()
			r, err := workloads.Run(context.Background(), scenario(v.autoscaler))
			if err != nil {
				b.Fatalf("%s: %v", v.name, err)
			}
			d := time.Since(start).Seconds()
			if old, ok := secs[v.name]; !ok || d < old {
				secs[v.name] = d
			}
			if r.Summary.Pods.Scheduled < n {
				b.Fatalf("%s: %d pods scheduled, want at least %d", v.name, r.Summary.Pods.Scheduled, n)
			}
			if v.autoscaler != "" {
				b.Logf("%s: cost %.2f, peak %d nodes, capacity wait p99 %.0f s", v.name, r.Autoscaling.Cost, r.Autoscaling.PeakNodes, r.Autoscaling.CapacityWait.P99)
			}
		}
	}
	for _, v := range variants {
		if _, ok := secs[v.name]; !ok {
			continue
		}
		b.ReportMetric(secs[v.name], v.name+"-s")
		if _, ok := secs["fixed"]; ok && v.autoscaler != "" {
			b.ReportMetric(secs[v.name]/secs["fixed"], v.name+"/fixed")
		}
	}
}
