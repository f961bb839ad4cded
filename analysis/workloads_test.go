package analysis

import (
	"bytes"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

const forbidden = `pods "web-abc-x" is forbidden: no PriorityClass with name missing was found`

func meta(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: "default", Name: name} }

// workloadObservation is one object of each kind in the states the report must tell apart.
func workloadObservation() Observation {
	web := &appsv1.Deployment{ObjectMeta: meta("web"), Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3)},
		Status: appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetCreated"},
			{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: forbidden},
		}}}
	// The ReplicaSet web controls carries the same failure: the Deployment reports it.
	webRS := &appsv1.ReplicaSet{ObjectMeta: meta("web-abc"), Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](3)},
		Status: appsv1.ReplicaSetStatus{Conditions: []appsv1.ReplicaSetCondition{
			{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: forbidden}}}}
	webRS.OwnerReferences = []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: ptr.To(true)}}
	// Its rollout timed out: a real cluster's verdict that it failed, whatever the cause.
	stuck := &appsv1.Deployment{ObjectMeta: meta("stuck"), Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
		Status: appsv1.DeploymentStatus{Replicas: 2, Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded"}}}}
	// Pods created, some not ready (unschedulable): not failing.
	waiting := &appsv1.Deployment{ObjectMeta: meta("waiting"), Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](4)},
		Status: appsv1.DeploymentStatus{Replicas: 4, ReadyReplicas: 1, Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable"},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "ReplicaSetUpdated"}}}}
	// A ReplicaFailure that is no longer True does not count.
	bare := &appsv1.ReplicaSet{ObjectMeta: meta("bare"), Spec: appsv1.ReplicaSetSpec{},
		Status: appsv1.ReplicaSetStatus{Replicas: 1, ReadyReplicas: 1, Conditions: []appsv1.ReplicaSetCondition{
			{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionFalse, Reason: "FailedCreate"}}}}
	db := &appsv1.StatefulSet{ObjectMeta: meta("db"), Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](2)}}
	agent := &appsv1.DaemonSet{ObjectMeta: meta("agent"),
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 5, CurrentNumberScheduled: 4, NumberReady: 3}}
	// 10 completions, 3 succeeded, parallelism 4: the controller wants 4 active.
	batch := &batchv1.Job{ObjectMeta: meta("batch"), Spec: batchv1.JobSpec{Parallelism: ptr.To[int32](4), Completions: ptr.To[int32](10)},
		Status: batchv1.JobStatus{Succeeded: 3, Active: 4, Ready: ptr.To[int32](2)}}
	// 2 completions left, parallelism 4: it wants 2.
	tail := &batchv1.Job{ObjectMeta: meta("tail"), Spec: batchv1.JobSpec{Parallelism: ptr.To[int32](4), Completions: ptr.To[int32](5)},
		Status: batchv1.JobStatus{Succeeded: 3, Active: 2}}
	// A failed Job wants nothing and is not failing: its pods failed, its controller did not.
	failed := &batchv1.Job{ObjectMeta: meta("failed"), Spec: batchv1.JobSpec{Parallelism: ptr.To[int32](1)},
		Status: batchv1.JobStatus{Failed: 7, Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}}}}
	// A ReplicationController reports its failure as a ReplicaSet does (same condition).
	legacy := &corev1.ReplicationController{ObjectMeta: meta("legacy"), Spec: corev1.ReplicationControllerSpec{Replicas: ptr.To[int32](2)},
		Status: corev1.ReplicationControllerStatus{Replicas: 1, ReadyReplicas: 1, Conditions: []corev1.ReplicationControllerCondition{
			{Type: corev1.ReplicationControllerReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: forbidden}}}}
	// A CronJob counts the Jobs it runs; its controller's failure to create one is its own.
	nightly := &batchv1.CronJob{ObjectMeta: meta("nightly"), Status: batchv1.CronJobStatus{Active: []corev1.ObjectReference{{Name: "nightly-1"}}}}
	return Observation{
		Elapsed:   time.Minute,
		Workloads: []runtime.Object{nightly, agent, stuck, waiting, web, failed, batch, tail, bare, webRS, legacy, db},
		SyncFailures: []WarningRecord{
			{Kind: "ReplicaSet", Namespace: "default", Name: "web-abc", Reason: "SyncFailed", Message: forbidden},
			{Kind: "StatefulSet", Namespace: "default", Name: "db", Reason: "SyncFailed", Message: `pods "db-0" is forbidden: no PriorityClass with name missing was found`},
			{Kind: "CronJob", Namespace: "default", Name: "nightly", Reason: "SyncFailed", Message: `jobs.batch "nightly-2" is forbidden: exceeded quota: q`},
		},
	}
}

func TestWorkloadReports(t *testing.T) {
	r := Build(workloadObservation())
	type row struct {
		kind, name              string
		desired, current, ready int32
		failing                 bool
		failures                string
	}
	want := []row{
		{"CronJob", "nightly", 1, 1, 1, true, `SyncFailed: jobs.batch "nightly-2" is forbidden: exceeded quota: q`},
		{"DaemonSet", "agent", 5, 4, 3, false, ""},
		{"Deployment", "stuck", 2, 2, 0, true, "Progressing (ProgressDeadlineExceeded): "},
		{"Deployment", "waiting", 4, 4, 1, false, ""},
		{"Deployment", "web", 3, 0, 0, true, "ReplicaFailure (FailedCreate): " + forbidden},
		{"Job", "failed", 0, 0, 0, false, ""},
		{"Job", "batch", 4, 4, 2, false, ""},
		{"Job", "tail", 2, 2, 0, false, ""},
		{"ReplicaSet", "bare", 1, 1, 1, false, ""},
		{"ReplicationController", "legacy", 2, 1, 1, true, "ReplicaFailure (FailedCreate): " + forbidden},
		{"StatefulSet", "db", 2, 0, 0, true, `SyncFailed: pods "db-0" is forbidden: no PriorityClass with name missing was found`},
	}
	if len(r.Workloads) != len(want) {
		t.Fatalf("workloads = %+v, want %d (web-abc is reported by web)", r.Workloads, len(want))
	}
	for i, w := range want {
		got := r.Workloads[i]
		gotRow := row{got.Kind, got.Name, got.Desired, got.Current, got.Ready, got.Failing, strings.Join(FailingConditions(got), "; ")}
		if gotRow != w {
			t.Errorf("workloads[%d] = %+v, want %+v", i, gotRow, w)
		}
	}
	// web's ReplicaFailure already says what its ReplicaSet's sync failure would.
	if n := len(r.Workloads[4].Conditions); n != 2 {
		t.Errorf("web has %d conditions, want its 2: %+v", n, r.Workloads[4].Conditions)
	}
	if r.Summary.Workloads != (WorkloadSummary{Total: 11, Failing: 5}) {
		t.Errorf("summary.workloads = %+v", r.Summary.Workloads)
	}
}

// A ReplicaSet's sync failure without a ReplicaFailure condition (a status write refused)
// shows on the Deployment that controls it, naming the ReplicaSet.
func TestOwnedReplicaSetSyncFailureShowsOnItsDeployment(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: meta("web"), Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)}}
	rs := &appsv1.ReplicaSet{ObjectMeta: meta("web-abc")}
	rs.OwnerReferences = []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: ptr.To(true)}}
	// An orphan ReplicaSet whose Deployment is gone is listed itself.
	orphan := &appsv1.ReplicaSet{ObjectMeta: meta("gone-abc")}
	orphan.OwnerReferences = []metav1.OwnerReference{{Kind: "Deployment", Name: "gone", Controller: ptr.To(true)}}
	r := Build(Observation{Elapsed: time.Second, Workloads: []runtime.Object{d, orphan, rs},
		SyncFailures: []WarningRecord{{Kind: "ReplicaSet", Namespace: "default", Name: "web-abc", Reason: "SyncFailed", Message: "updating status: conflict"}}})
	if len(r.Workloads) != 2 || r.Workloads[1].Name != "gone-abc" || r.Workloads[1].Failing {
		t.Fatalf("workloads = %+v", r.Workloads)
	}
	got := FailingConditions(r.Workloads[0])
	if want := "SyncFailed: ReplicaSet web-abc: updating status: conflict"; len(got) != 1 || got[0] != want || !r.Workloads[0].Failing {
		t.Errorf("web failing %v with %q, want %q", r.Workloads[0].Failing, got, want)
	}
}

// A gated pod is counted apart from the unschedulable ones, and listed with its reason; the
// table shows failing workloads right after the totals, before everything else.
func TestGatedPodsAndFailingWorkloadsInTheTable(t *testing.T) {
	o := workloadObservation()
	gate := "SchedulingGates: waiting for scheduling gates: [example.com/wait]"
	o.Pods = []PodRecord{
		{Pod: podOn("held", "", corev1.PodPending, ""), CreatedAt: dur(0), Gated: gate},
		{Pod: podOn("rejected", "", corev1.PodPending, ""), CreatedAt: dur(0), Attempts: 1, Reason: "0/1 nodes are available"},
		{Pod: podOn("held-gone", "", corev1.PodPending, ""), CreatedAt: dur(0), Gated: gate, DeletedAt: dur(time.Second)},
	}
	r := Build(o)
	if s := r.Summary.Pods; s.Gated != 1 || s.Unschedulable != 1 || s.Pending != 2 {
		t.Errorf("summary.pods = %+v, want 1 gated, 1 unschedulable, 2 pending", s)
	}
	if r.Pods[0].GatedReason != gate || r.Pods[2].GatedReason != "" {
		t.Errorf("gatedReason of held = %q, of rejected = %q", r.Pods[0].GatedReason, r.Pods[2].GatedReason)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Pods:  3 total, 0 scheduled, 1 unschedulable, 1 gated; 2 pending",
		"Workloads: 11 total, 5 failing\n\nFailing workloads (5):\n  CronJob default/nightly: 1/1 ready\n    SyncFailed: jobs.batch \"nightly-2\" is forbidden: exceeded quota: q\n  Deployment default/stuck: 0/2 ready\n",
		"  Deployment default/web: 0/3 ready\n    ReplicaFailure (FailedCreate): " + forbidden + "\n",
		"\nPods held before scheduling (1), never attempted, by reason:\n\n  1 pod(s): " + gate + "\n    default/held\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// The workload table lists the failing ones first.
	if i, j := strings.Index(out, "StatefulSet            default/db"), strings.Index(out, "DaemonSet              default/agent"); i < 0 || j < 0 || i > j {
		t.Errorf("failing StatefulSet not before the DaemonSet:\n%s", out)
	}
}
