package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var (
	benchOutputNodes = flag.Int("outputs-nodes", 5000, "nodes in BenchmarkRunOutputs")
	benchOutputPods  = flag.Int("outputs-pods", 10000, "pods in BenchmarkRunOutputs")
	benchOutputRound = flag.Int("outputs-rounds", 2, "rounds of BenchmarkRunOutputs; each variant keeps its fastest")
)

// BenchmarkRunOutputs runs one Deployment on many nodes through the whole command twice,
// alternating: with the table only (the default), and with every output (-o yaml, --report,
// --csv, --plots, --html). It reports the fastest wall time of each over the rounds and their
// ratio; the target is every output within 10% of the table alone.
func BenchmarkRunOutputs(b *testing.B) {
	dir := b.TempDir()
	nodes, workload := filepath.Join(dir, "nodes.yaml"), filepath.Join(dir, "workload.yaml")
	writeBenchInputs(b, nodes, workload, *benchOutputNodes, *benchOutputPods)
	base := []string{"run", "--nodes", nodes, "--workload", workload}
	all := append(append([]string{}, base...), "-o", "yaml", "--report", filepath.Join(dir, "report.json"),
		"--csv", filepath.Join(dir, "csv"), "--plots", filepath.Join(dir, "plots"), "--html", filepath.Join(dir, "report.html"))
	for i := 0; i < b.N; i++ {
		var table, every time.Duration
		for r := 0; r < *benchOutputRound; r++ {
			t, e := timeRun(b, base), timeRun(b, all)
			if r == 0 || t < table {
				table = t
			}
			if r == 0 || e < every {
				every = e
			}
		}
		b.ReportMetric(table.Seconds(), "table-s")
		b.ReportMetric(every.Seconds(), "all-outputs-s")
		b.ReportMetric(every.Seconds()/table.Seconds(), "ratio")
		b.Logf("%d nodes × %d pods: table only %.1f s, every output %.1f s (ratio %.3f)",
			*benchOutputNodes, *benchOutputPods, table.Seconds(), every.Seconds(), every.Seconds()/table.Seconds())
	}
}

func timeRun(b *testing.B, args []string) time.Duration {
	start := time.Now()
	if code := execute(context.Background(), args, io.Discard, io.Discard); code != exitOK {
		b.Fatalf("kwoksim %s: exit %d", strings.Join(args, " "), code)
	}
	return time.Since(start)
}

func writeBenchInputs(b *testing.B, nodesPath, workloadPath string, nodes, pods int) {
	var sb strings.Builder
	for i := 0; i < nodes; i++ {
		fmt.Fprintf(&sb, `---
apiVersion: v1
kind: Node
metadata: {name: node-%05d, labels: {kubernetes.io/hostname: node-%05d}}
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
`, i, i)
	}
	if err := os.WriteFile(nodesPath, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	deployment := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: bench, namespace: default}
spec:
  replicas: %d
  selector: {matchLabels: {app: bench}}
  template:
    metadata: {labels: {app: bench}}
    spec:
      containers:
      - name: c
        image: i
        resources: {requests: {cpu: 100m, memory: 128Mi}}
`, pods)
	if err := os.WriteFile(workloadPath, []byte(deployment), 0o644); err != nil {
		b.Fatal(err)
	}
}

var (
	benchSweepNodes = flag.Int("sweep-nodes", 1000, "nodes in BenchmarkSweep")
	benchSweepPods  = flag.Int("sweep-pods", 3000, "pods in BenchmarkSweep")
	benchSweepRound = flag.Int("sweep-rounds", 2, "rounds of BenchmarkSweep; each variant keeps its fastest")
)

// BenchmarkSweep compares a sweep of 8 combinations (seeds 1–8 of one Deployment on many
// nodes) with one of its combinations run alone, both as child processes, alternating. It
// reports the fastest wall time of each over the rounds and their ratio; the target is
// well under 8 (the combinations run --parallel, by default one per CPU).
func BenchmarkSweep(b *testing.B) {
	dir := b.TempDir()
	nodes, workload := filepath.Join(dir, "nodes.yaml"), filepath.Join(dir, "workload.yaml")
	writeBenchInputs(b, nodes, workload, *benchSweepNodes, *benchSweepPods)
	matrix := filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(matrix, []byte(`apiVersion: kwoksim/v1alpha1
kind: Sweep
base: {nodes: [nodes.yaml], workload: [workload.yaml]}
matrix: {seed: [1, 2, 3, 4, 5, 6, 7, 8]}
`), 0o644); err != nil {
		b.Fatal(err)
	}
	one := []string{"run", "--nodes", nodes, "--workload", workload, "--seed", "1"}
	for i := 0; i < b.N; i++ {
		var alone, all time.Duration
		for r := 0; r < *benchSweepRound; r++ {
			start := time.Now()
			if res := runChild(context.Background(), one); res.Exit != exitOK {
				b.Fatalf("one combination: exit %d: %v", res.Exit, res.Err)
			}
			a := time.Since(start)
			s := timeRun(b, []string{"sweep", matrix, "-o", "json"})
			if r == 0 || a < alone {
				alone = a
			}
			if r == 0 || s < all {
				all = s
			}
		}
		b.ReportMetric(alone.Seconds(), "one-s")
		b.ReportMetric(all.Seconds(), "sweep8-s")
		b.ReportMetric(all.Seconds()/alone.Seconds(), "ratio")
		b.Logf("%d nodes × %d pods, %d CPUs: one combination %.2f s, a sweep of 8 %.2f s (ratio %.2f)",
			*benchSweepNodes, *benchSweepPods, runtime.NumCPU(), alone.Seconds(), all.Seconds(), all.Seconds()/alone.Seconds())
	}
}
