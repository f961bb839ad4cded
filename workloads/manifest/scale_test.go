package manifest

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

const scaleManifests = `apiVersion: apps/v1
kind: Deployment
metadata: {name: ten}
spec:
  replicas: 10
  selector: {matchLabels: {app: a}}
  template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: unset}
spec:
  selector: {matchLabels: {app: b}}
  template: {metadata: {labels: {app: b}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: zero}
spec:
  replicas: 0
  selector: {matchLabels: {app: c}}
  template: {metadata: {labels: {app: c}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: three}
spec:
  replicas: 3
  serviceName: s
  selector: {matchLabels: {app: d}}
  template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  parallelism: 2
  completions: 7
  template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: queue}
spec:
  template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: e}}
  template: {metadata: {labels: {app: e}}, spec: {containers: [{name: c, image: i}]}}
`

// counts lists every scalable count in manifest order; -1 for unset.
func counts(objs []Object) []int32 {
	var out []int32
	get := func(p *int32) {
		if p == nil {
			out = append(out, -1)
		} else {
			out = append(out, *p)
		}
	}
	for _, o := range objs {
		switch w := o.Obj.(type) {
		case *appsv1.Deployment:
			get(w.Spec.Replicas)
		case *appsv1.ReplicaSet:
			get(w.Spec.Replicas)
		case *appsv1.StatefulSet:
			get(w.Spec.Replicas)
		case *batchv1.Job:
			get(w.Spec.Parallelism)
			get(w.Spec.Completions)
		}
	}
	return out
}

func TestScaleReplicas(t *testing.T) {
	for _, tc := range []struct {
		factor float64
		want   []int32 // ten, unset, zero, three, batch parallelism, completions, queue parallelism, completions
	}{
		{1, []int32{10, -1, 0, 3, 2, 7, -1, -1}},
		{2.5, []int32{25, 3, 0, 8, 5, 18, 3, -1}},
		{1.1, []int32{11, 2, 0, 4, 3, 8, 2, -1}}, // 10 × 1.1 is exactly 11
		{0.01, []int32{1, 1, 0, 1, 1, 1, 1, -1}}, // a count above 0 stays at least 1
		{0.5, []int32{5, 1, 0, 2, 1, 4, 1, -1}},
	} {
		objs, err := LoadBytes("scale.yaml", []byte(scaleManifests), LoadOptions{Kinds: WorkloadKinds})
		if err != nil {
			t.Fatal(err)
		}
		if err := ScaleReplicas(objs, tc.factor); err != nil {
			t.Fatalf("×%v: %v", tc.factor, err)
		}
		got := counts(objs)
		if len(got) != len(tc.want) {
			t.Fatalf("×%v: counts %v, want %v", tc.factor, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("×%v: counts %v, want %v", tc.factor, got, tc.want)
				break
			}
		}
	}
	objs, _ := LoadBytes("scale.yaml", []byte(scaleManifests), LoadOptions{Kinds: WorkloadKinds})
	for _, bad := range []float64{0, -1} {
		if err := ScaleReplicas(objs, bad); err == nil || !strings.Contains(err.Error(), "positive") {
			t.Errorf("×%v: err %v, want a refusal", bad, err)
		}
	}
	if err := ScaleReplicas(objs, 1e9); err == nil || !strings.Contains(err.Error(), "scale.yaml:1: 10 × 1e+09 is 10000000000, more than the limit of 2147483647") {
		t.Errorf("an overflowing scale: err %v, want one naming the manifest", err)
	}
}

// ReplicationControllers scale as ReplicaSets do, and CronJobs as the Jobs they create.
func TestScaleReplicasOfReplicationControllersAndCronJobs(t *testing.T) {
	const manifests = `apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: legacy}}
    spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      completions: 4
      template:
        spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
`
	objs, err := LoadBytes("scale.yaml", []byte(manifests), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ScaleReplicas(objs, 2.5); err != nil {
		t.Fatal(err)
	}
	rc := objs[0].Obj.(*corev1.ReplicationController)
	job := objs[1].Obj.(*batchv1.CronJob).Spec.JobTemplate.Spec
	if *rc.Spec.Replicas != 8 || *job.Parallelism != 3 || *job.Completions != 10 {
		t.Errorf("×2.5: replicas %d, parallelism %d, completions %d; want 8, 3 (1 unset ×2.5) and 10", *rc.Spec.Replicas, *job.Parallelism, *job.Completions)
	}
}
