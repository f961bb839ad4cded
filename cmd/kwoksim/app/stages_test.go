package app

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const kwokStages = "../../../testdata/kwok/stages/"

// --stages replaces the default set; the report counts each stage's transitions with its delay
// percentiles, inside the stage's range, sorted by kind then stage.
func TestRunWithKWOKStages(t *testing.T) {
	code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload, "-o", "json",
		"--stages", kwokStages+"node/fast", "--stages", kwokStages+"pod/general", "--stages", kwokStages+"volume/fast")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// The volume directory holds a StorageClass, skipped as KWOK skips it, and stages of
	// PersistentVolumes and PersistentVolumeClaims, kinds the simulator stores: no warning that
	// they never run (the seed has no claims, so they do not).
	if want := "storage-class.yaml: document 1: storage.k8s.io/v1 StorageClass is not a Stage; skipped"; !strings.Contains(errOut, want) {
		t.Errorf("stderr does not mention %q:\n%s", want, errOut)
	}
	if strings.Contains(errOut, "never runs") {
		t.Errorf("stderr warns of a stage that never runs:\n%s", errOut)
	}
	r := decodeReport(t, out)
	if r.Summary.Pods.Running != 10 {
		t.Errorf("summary.pods = %+v, want 10 running", r.Summary.Pods)
	}
	got := map[string]int{}
	var order []string
	for _, tr := range r.Transitions {
		key := tr.Kind + "/" + tr.Stage
		got[key] = tr.Count
		order = append(order, key)
		d := tr.DelaySeconds
		if !(d.P50 <= d.P90 && d.P90 <= d.P99 && d.P99 <= d.Max) {
			t.Errorf("%s: percentiles out of order: %+v", key, d)
		}
		if tr.Kind == "Pod" && (d.P50 < 1 || d.Max > 5) {
			t.Errorf("%s: delays %+v outside the stage's [1s, 5s]", key, d)
		}
	}
	want := map[string]int{"Node/node-initialize": 1, "Pod/pod-create": 10, "Pod/pod-ready": 10}
	if len(got) != len(want) || !sort.StringsAreSorted(order) {
		t.Errorf("transitions = %v (in order %v), want %v sorted", got, order, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("transitions[%s] = %d, want %d", k, got[k], n)
		}
	}
	code, table, _ := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload,
		"--stages", kwokStages+"node/fast", "--stages", kwokStages+"pod/general")
	if code != exitOK || !strings.Contains(table, "pod-create") || !strings.Contains(table, "DELAY P50") {
		t.Errorf("table (exit %d) has no transitions:\n%s", code, table)
	}
}

// Every stage file KWOK ships loads and runs unchanged, all of them in one run.
func TestEveryKWOKStageFileRuns(t *testing.T) {
	var args []string
	err := filepath.WalkDir(kwokStages, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() != "testdata" {
			if files, _ := filepath.Glob(filepath.Join(p, "*.yaml")); len(files) > 0 {
				args = append(args, "--stages", p)
			}
		}
		return err
	})
	if err != nil || len(args) < 14 {
		t.Fatalf("found %d stage directories (%v)", len(args)/2, err)
	}
	code, out, errOut := kwoksim(t, append([]string{"run", "--nodes", seedNodes, "--workload", seedWorkload, "--until", "10m", "-o", "json"}, args...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if r := decodeReport(t, out); r.Summary.Pods.Running != 10 || len(r.Transitions) == 0 {
		t.Errorf("summary %+v, %d transition kinds", r.Summary, len(r.Transitions))
	}
}

// explain shows, for a KWOK golden input, the stage that matches with its chance, delay range
// and rendered steps, and why each other stage does not match.
func TestStagesExplain(t *testing.T) {
	code, out, errOut := kwoksim(t, "stages", "explain", "--stages", kwokStages+"pod/general",
		kwokStages+"pod/general/testdata/pod-ready.input.yaml")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"6 stage(s) for kind Pod",
		"MATCH     pod-ready", "chance 100%, weight 1, delay 1s to 5s",
		"patch (strategic, subresource status):", "phase: Running", "startedAt: \"2026-01-01T00:00:00Z\"",
		"no match  pod-create", "fails spec.selector.matchExpressions[",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "MATCH "); n != 1 {
		t.Errorf("%d stages match, want 1:\n%s", n, out)
	}

	// --created: the user's Deployment as the apiserver stores it; its pods are explained
	// from a pod manifest, where an unbound pod gets a note.
	code, out, errOut = kwoksim(t, "stages", "explain", "--created", seedWorkload)
	if code != exitOK || !strings.Contains(out, "Deployment default/fake-pod") {
		t.Errorf("exit %d: %s%s", code, out, errOut)
	}
	code, _, errOut = kwoksim(t, "stages", "explain", "../../../testdata/bad/syntax.yaml")
	if code != exitBadInput || !strings.Contains(errOut, "syntax.yaml:14") {
		t.Errorf("bad object: exit %d: %s", code, errOut)
	}
}

// kwokVolumeWorkload is a pod on a claim of KWOK's kwok-volume class (the StorageClass of
// volume/fast, which --stages skips: it is given as a workload object).
const kwokVolumeWorkload = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: kwok-volume}
provisioner: kwok.x-k8s.io/volume
reclaimPolicy: Delete
volumeBindingMode: Immediate
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  storageClassName: kwok-volume
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  containers: [{name: c, image: i}]
  tolerations: [{operator: Exists}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
`

// KWOK's volume stages, with its node and pod stages, provision and bind the claim by
// themselves, once, and the pod runs.
func TestRunWithKWOKVolumeStages(t *testing.T) {
	workload := filepath.Join(t.TempDir(), "volume.yaml")
	if err := os.WriteFile(workload, []byte(kwokVolumeWorkload), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", workload, "-o", "json",
		"--stages", kwokStages+"volume/fast", "--stages", kwokStages+"node/fast", "--stages", kwokStages+"pod/fast")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if r.Summary.Pods.Running != 1 {
		t.Errorf("summary.pods = %+v, want 1 running", r.Summary.Pods)
	}
	got := map[string]int{}
	for _, tr := range r.Transitions {
		got[tr.Kind+"/"+tr.Stage] = tr.Count
	}
	// KWOK's pv-bind and kube-controller-manager's PV controller both set the volume Bound
	// (syncVolume, on the volume's creation); in a real KWOK cluster whichever sees it first
	// does, here the controller, at the instant the volume is created: pv-bind then finds it
	// Bound already.
	if got["PersistentVolumeClaim/pvc-provision"] != 1 || got["PersistentVolume/pv-bind"] > 1 {
		t.Errorf("transitions %v, want one pvc-provision and at most one pv-bind", got)
	}
	if r.Volumes == nil || r.Volumes.Claims.Bound != 1 || r.Volumes.Claims.Total != 1 {
		t.Errorf("volumes %+v, want the one claim Bound", r.Volumes)
	}
}
