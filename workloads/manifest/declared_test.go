package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

const declaredManifests = `apiVersion: v1
kind: Node
metadata: {name: a, labels: {pool: gpu}}
---
apiVersion: v1
kind: Node
metadata: {name: b}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 100
  selector: {matchLabels: {app: a}}
  template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: wraps}
spec:
  replicas: 2147483647
  selector: {matchLabels: {app: w}}
  template: {metadata: {labels: {app: w}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: owned, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: x, uid: u, controller: true}]}
spec:
  replicas: 1000
  selector: {matchLabels: {app: o}}
  template: {metadata: {labels: {app: o}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: stored, uid: "1234"}
spec:
  replicas: 1000
  serviceName: s
  selector: {matchLabels: {app: s}}
  template: {metadata: {labels: {app: s}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: job}
spec:
  parallelism: 50
  completions: 7
  template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: gpu}
spec:
  selector: {matchLabels: {app: d}}
  template: {metadata: {labels: {app: d}}, spec: {nodeSelector: {pool: gpu}, containers: [{name: c, image: i}]}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: everywhere}
spec:
  selector: {matchLabels: {app: e}}
  template: {metadata: {labels: {app: e}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: v1
kind: Pod
metadata: {name: bare}
spec: {containers: [{name: c, image: i}]}
`

// Declare counts the objects given and the pods their controllers create at once: no more
// (an owned or stored workload's pods are not its to create; a Deployment whose surge wraps
// creates none, as the real controller does).
func TestDeclare(t *testing.T) {
	path := filepath.Join(t.TempDir(), "all.yaml")
	if err := os.WriteFile(path, []byte(declaredManifests), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := Load([]string{path}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := Declare(objs)
	// 10 objects given; web: a ReplicaSet and 100 pods; wraps: its ReplicaSet, no pods; the
	// Job 7 (its completions); DaemonSet gpu 1 (node a), everywhere 2.
	if want := int64(10 + 101 + 1 + 7 + 1 + 2); d.Objects != want {
		t.Errorf("%d objects, want %d", d.Objects, want)
	}
	if want := path + ":9 (document 3): Deployment shop/web: 100 pods"; d.LargestText() != want {
		t.Errorf("largest %q, want %q", d.LargestText(), want)
	}
	if d := Declare(objs[:2]); d.Objects != 2 || d.LargestText() != "" {
		t.Errorf("nodes alone: %d objects, largest %q", d.Objects, d.LargestText())
	}
}
