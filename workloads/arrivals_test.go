package workloads_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/trace"
)

// Arrivals only leaves out the trace's Pod deletions and nothing else: the Deployment the
// trace deletes still goes, and its pods with it (the garbage collector), while the Pod the
// trace deletes stays; only that one deletion is counted.
func TestArrivalsOnlySkipsOnlyPodDeletions(t *testing.T) {
	dir := t.TempDir()
	const tr = `apiVersion: kwoksim/v1alpha1
kind: Trace
events:
- at: 0s
  apply:
    apiVersion: v1
    kind: Pod
    metadata: {name: solo}
    spec: {containers: [{name: c, image: busybox, resources: {requests: {cpu: 100m}}}]}
- at: 0s
  apply:
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec: {containers: [{name: c, image: busybox, resources: {requests: {cpu: 100m}}}]}
- at: 30s
  delete: {kind: Pod, name: solo}
- at: 30s
  delete: {kind: Deployment, name: web}
`
	if err := os.WriteFile(filepath.Join(dir, "trace.yaml"), []byte(tr), 0o644); err != nil {
		t.Fatal(err)
	}
	nodes, err := manifest.Load([]string{"../testdata/arrivals/nodes.yaml"}, manifest.LoadOptions{Kinds: map[string]bool{"Node": true}})
	if err != nil {
		t.Fatal(err)
	}
	sc := workloads.Scenario{Nodes: nodes, Traces: []string{filepath.Join(dir, "trace.yaml")}, Arrivals: &trace.ArrivalOptions{Only: true}}
	sc.Seed = 1
	r, err := workloads.Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	a := r.Arrivals
	// The Deployment's pods are its controller's, not the trace's: one pod created.
	if a == nil || a.DeletionsSkipped != 1 || a.Created != 1 || a.Accepted != 1 {
		t.Fatalf("arrivals %+v, want 1 deletion skipped, 1 pod created and accepted", a)
	}
	left := map[string]bool{}
	for _, p := range r.Pods {
		if p.DeletedAt == nil {
			left[p.Name] = true
		}
	}
	if len(left) != 1 || !left["solo"] || len(r.Workloads) != 0 {
		t.Errorf("pods left %v, workloads %d: want solo only, the Deployment gone with its pods", left, len(r.Workloads))
	}
}
