package trace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// ReadFile returns every event in order, decoded as a run decodes them, and refuses a trace a
// run would refuse (here: events out of time order), naming the line.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(`apiVersion: kwoksim/v1alpha1
kind: Trace
events:
- {"at": "0s", "apply": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}}
- {"at": "20s", "patch": {"kind": "Node", "name": "n1", "type": "merge", "patch": {"metadata": {"labels": {"x": "y"}}}}}
- {"at": "30s", "drain": {"node": "n1", "timeout": "90s"}}
`), 0o644)
	evs, err := ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 {
		t.Fatalf("got %d events, want 3", len(evs))
	}
	if evs[0].Op != OpApply || len(evs[0].Objects) != 1 || evs[0].At != 0 {
		t.Errorf("event 0: %+v", evs[0])
	}
	if evs[1].Op != OpPatch || evs[1].At != 20*time.Second || evs[1].PatchType != types.MergePatchType || evs[1].Target.Name != "n1" {
		t.Errorf("event 1: %+v", evs[1])
	}
	if evs[2].Op != OpDrain || evs[2].Drain == nil || evs[2].Drain.Timeout != 90*time.Second || evs[2].Node != "n1" {
		t.Errorf("event 2: %+v", evs[2])
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`apiVersion: kwoksim/v1alpha1
kind: Trace
events:
- {"at": "20s", "cordon": {"node": "n1"}}
- {"at": "10s", "uncordon": {"node": "n1"}}
`), 0o644)
	if _, err := ReadFile(bad); err == nil || !strings.Contains(err.Error(), "time order") {
		t.Errorf("out-of-order trace: got %v, want an error about time order", err)
	}
}

// Every scenario of the fidelity suite reads: the recorder and kwoksim replay these.
func TestReadFileFidelitySuite(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/fidelity/*/trace.yaml")
	if len(paths) == 0 {
		t.Skip("no fidelity suite")
	}
	for _, p := range paths {
		if evs, err := ReadFile(p); err != nil || len(evs) == 0 {
			t.Errorf("%s: %d events, %v", p, len(evs), err)
		}
	}
}
