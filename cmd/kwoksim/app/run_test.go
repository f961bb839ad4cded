package app

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/analysis"
)

const (
	seedNodes    = "../../../testdata/seed/node.yaml"
	seedWorkload = "../../../testdata/seed/pod.yaml"
)

// kwoksim runs the command line in-process and returns its exit code and output.
func kwoksim(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func decodeReport(t *testing.T, data string) *analysis.Report {
	t.Helper()
	var r analysis.Report
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		t.Fatalf("output is not a report: %v\n%s", err, data)
	}
	return &r
}

// The user's first command: their own node and Deployment, unchanged.
func TestSeedScenario(t *testing.T) {
	code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if r.APIVersion != "kwoksim/v1alpha1" || r.Kind != "Report" || r.Seed != 1 {
		t.Errorf("header = %s %s seed %d", r.APIVersion, r.Kind, r.Seed)
	}
	if got := r.Summary.Pods; got.Total != 10 || got.Scheduled != 10 || got.Running != 10 || got.Unschedulable != 0 {
		t.Errorf("summary.pods = %+v, want 10 scheduled and running", got)
	}
	if r.Summary.Nodes.Total != 1 || r.Summary.Nodes.Ready != 1 {
		t.Errorf("summary.nodes = %+v, want 1 ready", r.Summary.Nodes)
	}
	name := regexp.MustCompile(`^fake-pod-[a-z0-9]{8,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	for _, p := range r.Pods {
		if p.Node != "kwok-node-0" || p.Phase != "Running" || p.RunningAt == nil || p.Attempts != 1 {
			t.Errorf("pod %s: node=%q phase=%q runningAt=%v attempts=%d", p.Name, p.Node, p.Phase, p.RunningAt, p.Attempts)
		}
		if !name.MatchString(p.Name) || p.Namespace != "default" {
			t.Errorf("pod name %s/%s is not <deployment>-<pod-template-hash>-<suffix>", p.Namespace, p.Name)
		}
	}
	if len(r.Nodes) != 1 || r.Nodes[0].Pods != 10 || r.Nodes[0].Allocatable["cpu"] != "32" || r.Nodes[0].Requested["pods"] != "10" {
		t.Errorf("nodes = %+v", r.Nodes)
	}

	code, table, _ := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload)
	if code != exitOK || !strings.Contains(table, "10 total, 10 scheduled, 0 unschedulable") || !strings.Contains(table, "kwok-node-0") {
		t.Errorf("table (exit %d):\n%s", code, table)
	}
}

// Without the toleration, every pod is kept off the tainted node, with the scheduler's own
// message; that is a result, not an error.
func TestSeedWithoutTolerationIsUnschedulable(t *testing.T) {
	data, err := os.ReadFile(seedWorkload)
	if err != nil {
		t.Fatal(err)
	}
	noToleration := regexp.MustCompile(`(?s)\n      tolerations:.*?effect: "NoSchedule"`).ReplaceAll(data, nil)
	if bytes.Contains(noToleration, []byte("tolerations:")) || bytes.Equal(noToleration, data) {
		t.Fatalf("could not remove the toleration from %s", seedWorkload)
	}
	path := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(path, noToleration, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", path, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if got := r.Summary.Pods; got.Total != 10 || got.Unschedulable != 10 || got.Scheduled != 0 || got.Pending != 10 {
		t.Errorf("summary.pods = %+v, want 10 unschedulable", got)
	}
	for _, p := range r.Pods {
		if !strings.HasPrefix(p.UnschedulableReason, "0/1 nodes are available: 1 node(s) had untolerated taint") {
			t.Errorf("pod %s: reason %q", p.Name, p.UnschedulableReason)
		}
	}
	code, table, _ := kwoksim(t, "run", "--nodes", seedNodes, "--workload", path)
	if code != exitOK || !strings.Contains(table, "Unschedulable pods (10)") || !strings.Contains(table, "untolerated taint") {
		t.Errorf("table (exit %d):\n%s", code, table)
	}
}

// --report writes the same JSON as -o json, atomically; runtime aside, it is reproducible.
func TestReportFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload, "-o", "json", "--report", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := decodeReport(t, out), decodeReport(t, string(data))
	a.Runtime, b.Runtime = analysis.Runtime{}, analysis.Runtime{}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("--report differs from -o json")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only report.json (no temp files)", len(entries))
	}
}

// A day of the seed node's heartbeats: counted, not performed, unless --keep-renewals asks
// for each one. Both ways the day holds k beats with k*600s <= 24h < (k+1)*610s.
func TestKeepRenewals(t *testing.T) {
	events := map[bool]int64{}
	for _, keep := range []bool{false, true} {
		args := []string{"run", "--nodes", seedNodes, "--workload", seedWorkload, "--until", "24h", "-o", "json"}
		if keep {
			args = append(args, "--keep-renewals")
		}
		code, out, errOut := kwoksim(t, args...)
		if code != exitOK {
			t.Fatalf("keep=%v: exit %d: %s", keep, code, errOut)
		}
		r := decodeReport(t, out)
		beats := 0
		for _, tr := range r.Transitions {
			if tr.Stage == "node-heartbeat-with-lease" {
				beats = tr.Count
			}
		}
		if beats < 141 || beats > 144 {
			t.Errorf("keep=%v: %d heartbeats in a day, want 141..144", keep, beats)
		}
		events[keep] = r.Runtime.EventsProcessed
	}
	if events[true] < events[false]+141 {
		t.Errorf("events processed: %d with --keep-renewals, %d without; want every heartbeat performed", events[true], events[false])
	}
}

// The example at the command line: a CronJob "*/5 * * * *" and a
// ReplicationController of 3 (testdata/scenarios/cron). Created at t=0, the CronJob first fires
// at 00:05, each Job 100 ms after its scheduled time (the real controller's requeue padding):
// `--until 1h` sees the 11 Jobs of 00:05 … 00:55, and the 12th, of 01:00, needs 100 ms more.
func TestRunCronJob(t *testing.T) {
	for _, tc := range []struct {
		until string
		jobs  int
	}{{"1h", 11}, {"1h0m0.1s", 12}} {
		code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", "../../../testdata/scenarios/cron/workloads.yaml", "--until", tc.until, "-o", "json")
		if code != exitOK {
			t.Fatalf("--until %s: exit %d: %s", tc.until, code, errOut)
		}
		r := decodeReport(t, out)
		var created []float64
		legacy := 0
		for _, p := range r.Pods {
			switch {
			case strings.HasPrefix(p.Name, "tick-") && p.CreatedAt != nil:
				created = append(created, *p.CreatedAt)
			case strings.HasPrefix(p.Name, "legacy-") && p.Phase == "Running":
				legacy++
			}
		}
		if strings.Contains(errOut, "note: CronJob") {
			t.Errorf("--until %s: a note about --until was printed:\n%s", tc.until, errOut)
		}
		if len(created) != tc.jobs || legacy != 3 {
			t.Errorf("--until %s: %d Job pods (created at %v) and %d running pods of the ReplicationController, want %d and 3", tc.until, len(created), created, legacy, tc.jobs)
			continue
		}
		for i, at := range created {
			if want := float64(300*(i+1)) + 0.1; math.Abs(at-want) > 1e-9 {
				t.Errorf("--until %s: Job pod %d created at %vs, want %vs", tc.until, i, at, want)
			}
		}
	}
	// Without --until the run ends when nothing else is left to do, before 00:05: say so.
	code, _, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", "../../../testdata/scenarios/cron/workloads.yaml")
	if want := "kwoksim: note: CronJob tick (../../../testdata/scenarios/cron/workloads.yaml:1) fires only while the run goes on; without --until"; code != exitOK || !strings.Contains(errOut, want) {
		t.Errorf("without --until: exit %d, stderr lacks %q:\n%s", code, want, errOut)
	}
}

// A pod whose claim names a StorageClass that does not exist: VolumeBinding rejects it, then
// preemption fails with an error, which the scheduler logs through klog
// ("E1203 … Status after running PostFilter plugins for pod … status="not found"").
const unknownStorageClass = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default}
spec:
  storageClassName: nosuch
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec:
  containers: [{name: c, image: x}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
`

// The scheduler's klog lines stay off a run's stderr by default (in a process of its own, so
// that a line written straight to the process's stderr counts too); what the line said is in
// the pod's unschedulable reason. --log-level error shows them, --log-level with another
// value is a usage error.
func TestKlogQuietByDefault(t *testing.T) {
	workload := filepath.Join(t.TempDir(), "pvc.yaml")
	if err := os.WriteFile(workload, []byte(unknownStorageClass), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, stdout, stderr := startKwoksim(t, "run", "--nodes", seedNodes, "--workload", workload, "-o", "json")
	if code := waitExit(t, cmd); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr is not empty:\n%s", stderr)
	}
	r := decodeReport(t, stdout.String())
	if len(r.Pods) != 1 || !strings.HasSuffix(r.Pods[0].UnschedulableReason, "pod has unbound immediate PersistentVolumeClaims. not found") {
		t.Errorf("pods = %+v, want default/p unschedulable, with preemption's \"not found\"", r.Pods)
	}

	cmd, _, stderr = startKwoksim(t, "run", "--nodes", seedNodes, "--workload", workload, "--log-level", "error")
	if code := waitExit(t, cmd); code != exitOK || !strings.Contains(stderr.String(), `"Status after running PostFilter plugins for pod" logger="UnhandledError" pod="default/p" status="not found"`) {
		t.Errorf("--log-level error: exit %d, stderr lacks the scheduler's error line:\n%s", code, stderr)
	}
	code, _, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", workload, "--log-level", "debug")
	if want := `kwoksim: --log-level must be off, error or info, not "debug"`; code != exitBadInput || !strings.Contains(errOut, want) {
		t.Errorf("--log-level debug: exit %d, stderr lacks %q:\n%s", code, want, errOut)
	}
}
