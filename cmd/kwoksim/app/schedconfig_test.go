package app

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/analysis"
)

const schedConfigs = "../../../testdata/scheduler-config/"

// runJSON runs the command line with -o json, twice, and returns the report once it has
// checked that both runs gave the same report apart from runtime.
func runJSON(t *testing.T, args ...string) *analysis.Report {
	t.Helper()
	args = append(args, "-o", "json")
	runtime := regexp.MustCompile(`(?s)"runtime": \{.*?\}`)
	var first string
	for i := range 2 {
		code, out, errOut := kwoksim(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		if errOut != "" {
			t.Errorf("%v: stderr %q, want nothing", args, errOut)
		}
		out = runtime.ReplaceAllString(out, `"runtime": {}`)
		if i == 0 {
			first = out
		} else if out != first {
			t.Errorf("%v: two runs gave different reports:\n%s", args, lineDiff([]byte(first), []byte(out)))
		}
	}
	return decodeReport(t, first)
}

// The same 12 pods of 1 CPU on ten 4-CPU nodes: spread by the default LeastAllocated scoring,
// packed by MostAllocated, and by RequestedToCapacityRatio with a rising shape, onto the fewest
// nodes they fit on, 3.
func TestSchedulerConfigScoringStrategy(t *testing.T) {
	run := func(config ...string) *analysis.Report {
		args := []string{"run", "--nodes", schedConfigs + "nodes.yaml", "--workload", schedConfigs + "deployment.yaml"}
		if len(config) > 0 {
			args = append(args, "--scheduler-config", schedConfigs+config[0])
		}
		r := runJSON(t, args...)
		if s := r.Summary.Pods; s.Scheduled != 12 || s.Running != 12 {
			t.Errorf("%v: summary.pods = %+v, want all 12 scheduled and running", config, s)
		}
		return r
	}
	defaults, least, most := run(), run("least-allocated.yaml"), run("most-allocated.yaml")
	if ratio := run("requested-to-capacity-ratio.yaml"); ratio.Summary.Nodes.Used != 3 {
		t.Errorf("RequestedToCapacityRatio (rising shape) used %d nodes, want 3", ratio.Summary.Nodes.Used)
	}
	if most.Summary.Nodes.Used >= least.Summary.Nodes.Used {
		t.Errorf("MostAllocated used %d nodes, LeastAllocated %d: packing should use fewer", most.Summary.Nodes.Used, least.Summary.Nodes.Used)
	}
	if least.Summary.Nodes.Used != 10 || most.Summary.Nodes.Used != 3 {
		t.Errorf("nodes used: LeastAllocated %d, MostAllocated %d; want 10 (every node) and 3 (12 CPU on 4-CPU nodes)",
			least.Summary.Nodes.Used, most.Summary.Nodes.Used)
	}
	for _, n := range most.Nodes {
		if n.Pods != 0 && n.Pods != 4 {
			t.Errorf("MostAllocated: %s holds %d pods, want each used node full (4)", n.Name, n.Pods)
		}
	}
	// least-allocated.yaml spells out the defaults, so it places every pod as no file does.
	for i := range defaults.Pods {
		if d, l := defaults.Pods[i], least.Pods[i]; d.Name != l.Name || d.Node != l.Node {
			t.Errorf("pod %s on %s without a configuration, %s %s with least-allocated.yaml", d.Name, d.Node, l.Name, l.Node)
		}
	}
	code, table, _ := kwoksim(t, "run", "--nodes", schedConfigs+"nodes.yaml", "--workload", schedConfigs+"deployment.yaml",
		"--scheduler-config", schedConfigs+"most-allocated.yaml")
	if code != exitOK || !strings.Contains(table, "Nodes: 10 total, 10 ready, 3 used\n") {
		t.Errorf("table (exit %d):\n%s", code, table)
	}
}

// Two profiles each schedule the pods that name them; a pod naming neither is reported as
// unschedulable, with a reason that says no profile has its name.
func TestSchedulerConfigProfiles(t *testing.T) {
	args := []string{"run", "--nodes", schedConfigs + "nodes.yaml", "--workload", schedConfigs + "two-profiles-workload.yaml"}
	nodesOf := func(r *analysis.Report, prefix string) map[string]int {
		on := map[string]int{}
		for _, p := range r.Pods {
			if strings.HasPrefix(p.Name, prefix) && p.Node != "" {
				on[p.Node]++
			}
		}
		return on
	}
	reasonOf := func(r *analysis.Report, prefix string) map[string]int {
		reasons := map[string]int{}
		for _, p := range r.Pods {
			if strings.HasPrefix(p.Name, prefix) {
				reasons[p.UnschedulableReason]++
			}
		}
		return reasons
	}

	r := runJSON(t, append(args, "--scheduler-config", schedConfigs+"two-profiles.yaml")...)
	if s := r.Summary.Pods; s.Total != 9 || s.Scheduled != 8 || s.Unschedulable != 1 || s.Pending != 1 {
		t.Errorf("summary.pods = %+v, want 8 of 9 scheduled and the orphan unschedulable", s)
	}
	spread, packed := nodesOf(r, "spread-"), nodesOf(r, "packed-")
	if len(spread) != 4 || len(packed) >= len(spread) {
		t.Errorf("default-scheduler's 4 pods on %v, bin-packing's on %v: want the first spread over 4 nodes and the second on fewer", spread, packed)
	}
	want := `no scheduler profile is named "no-such-scheduler" (the profiles are bin-packing, default-scheduler): kube-scheduler leaves the pod to another scheduler, so it was never tried`
	if got := reasonOf(r, "orphan"); got[want] != 1 {
		t.Errorf("orphan's reason: %v, want %q", got, want)
	}
	if len(r.UnschedulableReasons) != 1 || r.UnschedulableReasons[0].Reason != want || r.UnschedulableReasons[0].Count != 1 ||
		r.UnschedulableReasons[0].Code != "" || len(r.UnschedulableReasons[0].Plugins) != 0 {
		t.Errorf("unschedulableReasons = %+v", r.UnschedulableReasons)
	}

	// Without the configuration only default-scheduler exists: bin-packing's pods are orphans too.
	r = runJSON(t, args...)
	if s := r.Summary.Pods; s.Scheduled != 4 || s.Unschedulable != 5 {
		t.Errorf("without the configuration: summary.pods = %+v, want 4 scheduled and 5 unschedulable", s)
	}
	want = `no scheduler profile is named "bin-packing" (the profiles are default-scheduler): kube-scheduler leaves the pod to another scheduler, so it was never tried`
	if got := reasonOf(r, "packed-"); got[want] != 4 {
		t.Errorf("without the configuration, packed pods' reasons: %v, want %q", got, want)
	}
}
