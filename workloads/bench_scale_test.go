package workloads_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

var (
	scaleBinary  = flag.String("scale-kwoksim", "../bin/kwoksim", "the kwoksim binary BenchmarkScale runs (make bench-scale builds it)")
	scaleSizes   = flag.String("scale-sizes", "5000x10000", "BenchmarkScale's sizes, NODESxPODS, comma-separated")
	scaleBareMax = flag.Int("scale-bare-max-pods", 20000, "BenchmarkScale runs the bare pattern beside kwoksim at sizes of at most this many pods")
	scaleRounds  = flag.Int("scale-rounds", 1, "rounds of BenchmarkScale per size; each figure is the best (lowest) of its variant's rounds")
)

// BenchmarkScale measures whole processes, as a user's run is one: at each size, the kwoksim
// binary (`kwoksim run`, defaults, the nodes and Deployment of BenchmarkSchedulingThroughput
// as manifests, with an assertion that every pod was scheduled) and, in the same run,
// alternating, the bare pattern (this test binary running BenchmarkSchedulingThroughput's
// bare variant alone), each as a child process. It reports for each the wall time, the CPU
// time and the peak resident set size the kernel recorded for the child (what /usr/bin/time -v
// reports as "Maximum resident set size"), peak RSS per pod and per node, kwoksim's ratios to
// the bare pattern, and, between two sizes that differ only in pods (or only in nodes), what
// one more pod (or node) adds to kwoksim's peak.
//
// Both variants run under the same garbage-collector setting: the binary's (400, or GOGC
// when set) and BenchmarkSchedulingThroughput's, which follows it.
func BenchmarkScale(b *testing.B) {
	sizes, err := parseScaleSizes(*scaleSizes)
	if err != nil {
		b.Fatal(err)
	}
	bin, err := filepath.Abs(*scaleBinary)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		b.Fatalf("%v: build the binary first (make bench-scale does), or name it with -scale-kwoksim", err)
	}
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		var rows []scaleRow
		for _, sz := range sizes {
			nodes, workload := writeScaleInputs(b, dir, sz)
			row := scaleRow{size: sz}
			for r := 0; r < *scaleRounds; r++ {
				row.kwoksim = row.kwoksim.best(runChild(b, exec.Command(bin, "run", "--nodes", nodes, "--workload", workload,
					"--assert", fmt.Sprintf("summary.pods.scheduled == %d", sz.pods))))
				if sz.pods <= *scaleBareMax {
					row.bare = row.bare.best(runChild(b, exec.Command(os.Args[0], "-test.run", "^$",
						"-test.bench", "^BenchmarkSchedulingThroughput$", "-test.benchtime", "1x",
						"-bench-only", "bare", "-bench-rounds", "1",
						"-bench-nodes", strconv.Itoa(sz.nodes), "-bench-pods", strconv.Itoa(sz.pods))))
				}
			}
			rows = append(rows, row)
			b.Logf("%d nodes × %d pods: kwoksim %s; bare %s", sz.nodes, sz.pods, row.kwoksim, row.bare)
		}
		// To standard output: a benchmark's log keeps only its first lines.
		var sb strings.Builder
		writeScaleTable(&sb, rows)
		fmt.Print(sb.String())
		if first := rows[0]; first.bare.wall > 0 {
			b.ReportMetric(first.kwoksim.rss/first.bare.rss, "rss-ratio")
			b.ReportMetric(first.bare.wall.Seconds()/first.kwoksim.wall.Seconds(), "throughput-ratio")
		}
	}
}

type scaleSize struct{ nodes, pods int }

func parseScaleSizes(s string) ([]scaleSize, error) {
	var sizes []scaleSize
	for _, f := range strings.Split(s, ",") {
		n, p, ok := strings.Cut(strings.TrimSpace(f), "x")
		nodes, err1 := strconv.Atoi(n)
		pods, err2 := strconv.Atoi(p)
		if !ok || err1 != nil || err2 != nil || nodes <= 0 || pods <= 0 {
			return nil, fmt.Errorf("-scale-sizes: %q is not NODESxPODS (e.g. 5000x10000)", f)
		}
		sizes = append(sizes, scaleSize{nodes, pods})
	}
	return sizes, nil
}

// childRun is one child process's wall time, CPU time and peak RSS (bytes).
type childRun struct {
	wall, cpu time.Duration
	rss       float64
}

func (c childRun) best(o childRun) childRun {
	if c.wall == 0 {
		return o
	}
	return childRun{min(c.wall, o.wall), min(c.cpu, o.cpu), min(c.rss, o.rss)}
}

func (c childRun) String() string {
	if c.wall == 0 {
		return "not run"
	}
	return fmt.Sprintf("%.1f s wall, %.1f s CPU, %.0f MB peak RSS", c.wall.Seconds(), c.cpu.Seconds(), c.rss/1e6)
}

func runChild(b *testing.B, cmd *exec.Cmd) childRun {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		tail := out.String()
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		b.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, tail)
	}
	ps := cmd.ProcessState
	return childRun{wall: wall, cpu: ps.UserTime() + ps.SystemTime(), rss: peakRSS(ps)}
}

type scaleRow struct {
	size          scaleSize
	kwoksim, bare childRun
}

func writeScaleTable(sb *strings.Builder, rows []scaleRow) {
	w := tabwriter.NewWriter(sb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NODES\tPODS\tVARIANT\tWALL\tCPU\tPEAK RSS\tRSS/POD\tRSS/NODE\tPODS/S (WALL)\tRSS RATIO\tTHROUGHPUT RATIO")
	for _, r := range rows {
		for _, v := range []struct {
			name string
			c    childRun
		}{{"kwoksim", r.kwoksim}, {"bare", r.bare}} {
			if v.c.wall == 0 {
				fmt.Fprintf(w, "%d\t%d\t%s\tnot run (-scale-bare-max-pods %d)\t\t\t\t\t\t\t\n", r.size.nodes, r.size.pods, v.name, *scaleBareMax)
				continue
			}
			ratio, throughput := "", ""
			if v.name == "kwoksim" && r.bare.wall > 0 {
				ratio = fmt.Sprintf("%.2f", r.kwoksim.rss/r.bare.rss)
				throughput = fmt.Sprintf("%.2f", r.bare.wall.Seconds()/r.kwoksim.wall.Seconds())
			}
			fmt.Fprintf(w, "%d\t%d\t%s\t%.1f s\t%.1f s\t%.0f MB\t%.1f KB\t%.1f KB\t%.0f\t%s\t%s\n", r.size.nodes, r.size.pods, v.name,
				v.c.wall.Seconds(), v.c.cpu.Seconds(), v.c.rss/1e6, v.c.rss/float64(r.size.pods)/1e3, v.c.rss/float64(r.size.nodes)/1e3,
				float64(r.size.pods)/v.c.wall.Seconds(), ratio, throughput)
		}
	}
	w.Flush()
	// What one more pod, or node, adds to kwoksim's peak: between sizes that differ in one only.
	for i, a := range rows {
		for _, c := range rows[i+1:] {
			switch {
			case a.size.nodes == c.size.nodes && a.size.pods != c.size.pods:
				fmt.Fprintf(sb, "kwoksim, %d → %d pods on %d nodes: %.1f KB of peak RSS per pod more\n", a.size.pods, c.size.pods, a.size.nodes,
					(c.kwoksim.rss-a.kwoksim.rss)/float64(c.size.pods-a.size.pods)/1e3)
			case a.size.pods == c.size.pods && a.size.nodes != c.size.nodes:
				fmt.Fprintf(sb, "kwoksim, %d → %d nodes with %d pods: %.1f KB of peak RSS per node more\n", a.size.nodes, c.size.nodes, a.size.pods,
					(c.kwoksim.rss-a.kwoksim.rss)/float64(c.size.nodes-a.size.nodes)/1e3)
			}
		}
	}
}

// writeScaleInputs writes the nodes and the Deployment of BenchmarkSchedulingThroughput
// (benchNode, benchDeployment) as manifests, for the binary.
func writeScaleInputs(b *testing.B, dir string, sz scaleSize) (nodes, workload string) {
	nodes = filepath.Join(dir, fmt.Sprintf("nodes-%d.yaml", sz.nodes))
	workload = filepath.Join(dir, fmt.Sprintf("workload-%d.yaml", sz.pods))
	var sb strings.Builder
	for i := 0; i < sz.nodes; i++ {
		fmt.Fprintf(&sb, "---\napiVersion: v1\nkind: Node\nmetadata: {name: node-%05d, labels: {kubernetes.io/hostname: node-%05d}}\n"+
			"status:\n  allocatable: {cpu: \"32\", memory: 256Gi, pods: \"110\"}\n  capacity: {cpu: \"32\", memory: 256Gi, pods: \"110\"}\n", i, i)
	}
	if err := os.WriteFile(nodes, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	deployment := fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bench, namespace: default}\nspec:\n  replicas: %d\n"+
		"  selector: {matchLabels: {app: bench}}\n  template:\n    metadata: {labels: {app: bench}}\n    spec:\n      containers:\n"+
		"      - name: c\n        image: i\n        resources: {requests: {cpu: 100m, memory: 128Mi}}\n", sz.pods)
	if err := os.WriteFile(workload, []byte(deployment), 0o644); err != nil {
		b.Fatal(err)
	}
	return nodes, workload
}
