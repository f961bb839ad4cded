package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// claimedSet is a StatefulSet with a volumeClaimTemplate in a namespace whose quota allows no
// claim: the apiserver refuses db-0's claim, so the controller cannot create db-0 (see
// workloads/statefulset) and its failure must reach the report.
const claimedSet = `apiVersion: v1
kind: ResourceQuota
metadata: {name: no-claims}
spec:
  hard: {persistentvolumeclaims: "0"}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      tolerations: [{key: kwok.x-k8s.io/node, operator: Exists}]
      containers: [{name: db, image: db:1}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`

// A controller's warning (here: a StatefulSet whose claim is refused) reaches the JSON report,
// the table and --assert: the run does not drop what it could not simulate in silence.
func TestControllerWarningsReachTheReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.yaml")
	if err := os.WriteFile(path, []byte(claimedSet), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "--nodes", "../../../testdata/seed/node.yaml", "--workload", path}

	code, out, errOut := kwoksim(t, append(args, "-o", "json")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if len(r.Warnings) != 1 {
		t.Fatalf("warnings %+v, want one", r.Warnings)
	}
	const refused = `SyncFailed: failed to create PVC data-db-0: persistentvolumeclaims "data-db-0" is forbidden: exceeded quota: no-claims`
	w := r.Warnings[0]
	if w.Kind != "StatefulSet" || w.Namespace != "default" || w.Name != "db" || w.Reason+": "+w.Message != refused+
		", requested: persistentvolumeclaims=1, used: persistentvolumeclaims=0, limited: persistentvolumeclaims=0" || w.Count < 1 || w.At != 0 {
		t.Errorf("warning %+v", w)
	}
	if r.Summary.Pods.Total != 0 {
		t.Errorf("%d pods, want none: db-0 waits for its claim", r.Summary.Pods.Total)
	}

	code, out, errOut = kwoksim(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "\nWarnings from the simulated controllers (1):\n  t=0s StatefulSet default/db: "+refused) {
		t.Errorf("the table does not show the warning:\n%s", out)
	}

	code, _, errOut = kwoksim(t, append(args, "--assert", "size(warnings) == 0")...)
	if code != exitAssertion {
		t.Errorf("--assert 'size(warnings) == 0': exit %d, want %d; stderr:\n%s", code, exitAssertion, errOut)
	}
}

// delayFromGarbage is a pod stage whose durationFrom reads an annotation that is not a
// duration: KWOK ignores it silently and uses the milliseconds; kwoksim does too, and warns.
const delayFromGarbage = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-ready-later}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: .status.phase, operator: In, values: [Pending]}
  delay:
    durationMilliseconds: 2000
    durationFrom:
      expressionFrom: '.metadata.annotations["ready-after"] // 5'
  next:
    statusTemplate: 'phase: Running'
`

// A durationFrom whose value is not a duration is a warning in the report, once per object,
// and the delay is KWOK's fallback (the milliseconds), not 0.
func TestIgnoredDurationFromReachesTheReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stage.yaml")
	if err := os.WriteFile(path, []byte(delayFromGarbage), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := kwoksim(t, "run", "--nodes", "../../../testdata/seed/node.yaml", "--workload", "../../../testdata/seed/pod.yaml",
		"--stages", kwokStages+"node/fast", "--stages", path, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	n := 0
	for _, w := range r.Warnings {
		if w.Reason != "StageDelayIgnored" {
			continue
		}
		n++
		if w.Kind != "Pod" || !strings.Contains(w.Message, `stage pod-ready-later: spec.delay.durationFrom.jq.expression`) ||
			!strings.Contains(w.Message, "gave 5") || !strings.Contains(w.Message, "spec.delay.durationMilliseconds (2s) is used") {
			t.Errorf("warning %+v", w)
		}
	}
	if n != r.Summary.Pods.Total || n == 0 {
		t.Errorf("%d StageDelayIgnored warnings for %d pods; want one per pod: %+v", n, r.Summary.Pods.Total, r.Warnings)
	}
}

// replicas: 2147483647 with the default 25% surge: the real deployment controller's int32 sum
// of replicas and maxSurge wraps negative and it never scales the new ReplicaSet up, so a real
// cluster has no pods; kwoksim gives the same answer and says why (it used to end with no pods
// and no word).
func TestReplicasOverflowIsSaid(t *testing.T) {
	code, out, errOut := kwoksim(t, "run", "--nodes", "../../../testdata/seed/node.yaml",
		"--workload", "../../../testdata/bad/max-replicas.yaml", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if r.Summary.Pods.Total != 0 {
		t.Errorf("%d pods, want none, as in a real cluster", r.Summary.Pods.Total)
	}
	if len(r.Warnings) != 1 || r.Warnings[0].Reason != "ReplicasOverflow" || r.Warnings[0].Name != "huge" ||
		!strings.Contains(r.Warnings[0].Message, "2684354559 does not fit in an int32") {
		t.Errorf("warnings %+v, want one ReplicasOverflow for Deployment huge", r.Warnings)
	}
}

// A Node without status.allocatable or status.capacity gets KWOK's node-initialize defaults
// (cpu 1k, memory 1Ti, pods 1M), on which anything fits: the run says so, naming the node and
// the values, in the report, the table and to --assert. A node with only a capacity gets its
// allocatable from it (the apiserver's defaulting) and no warning.
func TestNodeWithoutResourcesIsSaid(t *testing.T) {
	dir := t.TempDir()
	nodes := filepath.Join(dir, "nodes.yaml")
	if err := os.WriteFile(nodes, []byte(`apiVersion: v1
kind: Node
metadata: {name: bare}
---
apiVersion: v1
kind: Node
metadata: {name: sized}
status:
  capacity: {cpu: "4", memory: 8Gi, pods: "20"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "--nodes", nodes}
	code, out, errOut := kwoksim(t, append(args, "-o", "json")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if len(r.Warnings) != 1 {
		t.Fatalf("warnings %+v, want one, for node bare", r.Warnings)
	}
	w := r.Warnings[0]
	if w.Kind != "Node" || w.Name != "bare" || w.Reason != "NodeResourcesAssumed" ||
		!strings.Contains(w.Message, "assumed allocatable cpu 1k, memory 1Ti, pods 1M") ||
		!strings.Contains(w.Message, "kubelet reports its machine's capacity") {
		t.Errorf("warning %+v", w)
	}
	code, out, errOut = kwoksim(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "t=0s Node bare: NodeResourcesAssumed: the Node has no status.allocatable or status.capacity") {
		t.Errorf("the table does not show the warning:\n%s", out)
	}
	code, _, errOut = kwoksim(t, append(args, "--assert", "size(warnings) == 0")...)
	if code != exitAssertion {
		t.Errorf("--assert 'size(warnings) == 0': exit %d, want %d; stderr:\n%s", code, exitAssertion, errOut)
	}
}
