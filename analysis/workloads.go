package analysis

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// WorkloadReport is one workload object that exists at the end of the run: a Deployment, a
// ReplicaSet no Deployment controls, a ReplicationController, a StatefulSet, a DaemonSet, a
// Job or a CronJob.
//
// Desired, Current and Ready are, per kind:
//   - Deployment, ReplicaSet, ReplicationController, StatefulSet: spec.replicas,
//     status.replicas, status.readyReplicas;
//   - CronJob: the Jobs it has running (status.active), all three;
//   - DaemonSet: status.desiredNumberScheduled, currentNumberScheduled, numberReady;
//   - Job: the active pods its controller wants (manageJob's wantActive in
//     pkg/controller/job/job_controller.go: parallelism, capped by the completions not yet
//     succeeded; 0 once the Job finished or while suspended), status.active, status.ready.
type WorkloadReport struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Desired   int32  `json:"desired"`
	Current   int32  `json:"current"`
	Ready     int32  `json:"ready"`
	// Failing tells whether the workload failed (see WorkloadFailing): its controller could
	// not do what it needed, or a Deployment's rollout timed out.
	Failing bool `json:"failing"`
	// Conditions are the object's status conditions as stored, then, when its controller's
	// last sync failed, a SyncFailed condition with the failure (see SyncFailedCondition).
	Conditions []WorkloadCondition `json:"conditions"`
	// Disruptions are the episodes in which it lost pods to evictions or to a node that
	// went away, with the time each took to recover (see WorkloadDisruption), in order;
	// left out when there were none.
	Disruptions []WorkloadDisruption `json:"disruptions,omitempty"`
	// VolumeWait is set when pods of the workload are left unbound at the end waiting for
	// volumes (see VolumesReport.PodsWaiting): how many, and why the first of them waits.
	// Such pods do not make the workload failing; left out when none wait.
	VolumeWait *WorkloadVolumeWait `json:"volumeWait,omitempty"`
}

// WorkloadCondition is one status condition of a workload.
type WorkloadCondition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// WorkloadSummary counts the workloads of the report and those failing.
type WorkloadSummary struct {
	Total   int `json:"total"`
	Failing int `json:"failing"`
}

// SyncFailedCondition is the type (and reason) of the condition the report adds to a
// workload whose controller's last sync failed, with the controller's error as its message.
// It is kwoksim's, not the API's: a real cluster shows such a failure as a Warning event on
// the object (FailedCreate "Error creating: …" from the Job, DaemonSet and StatefulSet
// controllers, which write no condition for it), and for a ReplicaSet as its ReplicaFailure
// condition too, which the report then shows instead.
const SyncFailedCondition = "SyncFailed"

// WorkloadFailing tells whether a condition makes its workload failing. A workload fails
// when, at the end of the run:
//   - its ReplicaFailure condition is True: the ReplicaSet controller could not create or
//     delete pods (calculateStatus, pkg/controller/replicaset/replica_set_utils.go), which a
//     Deployment carries over from its ReplicaSets (getReplicaFailures,
//     pkg/controller/deployment/progress.go);
//   - it is a Deployment whose Progressing condition is False with ProgressDeadlineExceeded:
//     its rollout made no progress for progressDeadlineSeconds (600 by default). That is a
//     real cluster's own verdict that the rollout failed (`kubectl rollout status` exits 1 on
//     it), so it counts, even when the reason is only that its pods found no node;
//   - its controller's last sync failed (SyncFailedCondition).
//
// Pods that are merely unschedulable do not make their workload failing: they are counted
// in summary.pods.unschedulable. A Job whose Failed condition is True is not failing either:
// its controller did its work, and its pods failed (summary.pods.failed).
func WorkloadFailing(kind string, c WorkloadCondition) bool {
	switch {
	case c.Type == SyncFailedCondition:
		return true
	case c.Type == "ReplicaFailure":
		return c.Status == string(corev1.ConditionTrue)
	case kind == "Deployment" && c.Type == string(appsv1.DeploymentProgressing):
		return c.Status == string(corev1.ConditionFalse) && c.Reason == "ProgressDeadlineExceeded"
	}
	return false
}

// workloadReports lists the workloads, in the order of objs, with the current sync failures
// (sorted by kind, namespace and name). A ReplicaSet controlled by a Deployment that exists
// is not listed: the Deployment reports for it, as it carries its ReplicaFailure condition,
// and its sync failure is added to the Deployment's conditions, naming the ReplicaSet.
func workloadReports(objs []runtime.Object, failures []WarningRecord) ([]WorkloadReport, WorkloadSummary) {
	type key struct{ kind, namespace, name string }
	failed := make(map[key]WarningRecord, len(failures))
	for _, f := range failures {
		failed[key{f.Kind, f.Namespace, f.Name}] = f
	}
	deployments := map[key]bool{}
	for _, o := range objs {
		if d, ok := o.(*appsv1.Deployment); ok {
			deployments[key{"Deployment", d.Namespace, d.Name}] = true
		}
	}
	// ownedFailures are the sync failures of the ReplicaSets a listed Deployment controls,
	// by Deployment; objs is sorted, so each list is in ReplicaSet name order.
	ownedFailures := map[key][]WorkloadCondition{}
	out := make([]WorkloadReport, 0, len(objs))
	for _, o := range objs {
		w, ok := workloadReport(o)
		if !ok {
			continue
		}
		f, hasFailure := failed[key{w.Kind, w.Namespace, w.Name}]
		if w.Kind == "ReplicaSet" {
			if ref := metav1.GetControllerOfNoCopy(o.(metav1.Object)); ref != nil && ref.Kind == "Deployment" &&
				deployments[key{"Deployment", w.Namespace, ref.Name}] {
				if hasFailure {
					d := key{"Deployment", w.Namespace, ref.Name}
					ownedFailures[d] = append(ownedFailures[d], syncFailed("ReplicaSet "+w.Name+": "+f.Message))
				}
				continue
			}
		}
		if hasFailure && !replicaFailure(w.Conditions) {
			w.Conditions = append(w.Conditions, syncFailed(f.Message))
		}
		out = append(out, w)
	}
	var sum WorkloadSummary
	for i := range out {
		w := &out[i]
		if w.Kind == "Deployment" && !replicaFailure(w.Conditions) {
			w.Conditions = append(w.Conditions, ownedFailures[key{w.Kind, w.Namespace, w.Name}]...)
		}
		for _, c := range w.Conditions {
			w.Failing = w.Failing || WorkloadFailing(w.Kind, c)
		}
		sum.Total++
		if w.Failing {
			sum.Failing++
		}
	}
	return out, sum
}

func syncFailed(msg string) WorkloadCondition {
	return WorkloadCondition{Type: SyncFailedCondition, Status: string(corev1.ConditionTrue), Reason: SyncFailedCondition, Message: msg}
}

// replicaFailure tells whether the conditions hold a True ReplicaFailure, which already says
// what a sync failure would.
func replicaFailure(cs []WorkloadCondition) bool {
	for _, c := range cs {
		if c.Type == "ReplicaFailure" && c.Status == string(corev1.ConditionTrue) {
			return true
		}
	}
	return false
}

// workloadReport is the entry of one object, without its sync failure; false for an object
// that is not a workload.
func workloadReport(o runtime.Object) (WorkloadReport, bool) {
	var w WorkloadReport
	switch x := o.(type) {
	case *appsv1.Deployment:
		w = WorkloadReport{Kind: "Deployment", Namespace: x.Namespace, Name: x.Name,
			Desired: replicas(x.Spec.Replicas), Current: x.Status.Replicas, Ready: x.Status.ReadyReplicas}
		for _, c := range x.Status.Conditions {
			w.Conditions = append(w.Conditions, WorkloadCondition{string(c.Type), string(c.Status), c.Reason, c.Message})
		}
	case *appsv1.ReplicaSet:
		w = WorkloadReport{Kind: "ReplicaSet", Namespace: x.Namespace, Name: x.Name,
			Desired: replicas(x.Spec.Replicas), Current: x.Status.Replicas, Ready: x.Status.ReadyReplicas}
		for _, c := range x.Status.Conditions {
			w.Conditions = append(w.Conditions, WorkloadCondition{string(c.Type), string(c.Status), c.Reason, c.Message})
		}
	case *appsv1.StatefulSet:
		w = WorkloadReport{Kind: "StatefulSet", Namespace: x.Namespace, Name: x.Name,
			Desired: replicas(x.Spec.Replicas), Current: x.Status.Replicas, Ready: x.Status.ReadyReplicas}
		for _, c := range x.Status.Conditions {
			w.Conditions = append(w.Conditions, WorkloadCondition{string(c.Type), string(c.Status), c.Reason, c.Message})
		}
	case *appsv1.DaemonSet:
		w = WorkloadReport{Kind: "DaemonSet", Namespace: x.Namespace, Name: x.Name,
			Desired: x.Status.DesiredNumberScheduled, Current: x.Status.CurrentNumberScheduled, Ready: x.Status.NumberReady}
		for _, c := range x.Status.Conditions {
			w.Conditions = append(w.Conditions, WorkloadCondition{string(c.Type), string(c.Status), c.Reason, c.Message})
		}
	case *batchv1.Job:
		w = WorkloadReport{Kind: "Job", Namespace: x.Namespace, Name: x.Name,
			Desired: jobWantActive(x), Current: x.Status.Active}
		if x.Status.Ready != nil {
			w.Ready = *x.Status.Ready
		}
		for _, c := range x.Status.Conditions {
			w.Conditions = append(w.Conditions, WorkloadCondition{string(c.Type), string(c.Status), c.Reason, c.Message})
		}
	case *corev1.ReplicationController:
		w = WorkloadReport{Kind: "ReplicationController", Namespace: x.Namespace, Name: x.Name,
			Desired: replicas(x.Spec.Replicas), Current: x.Status.Replicas, Ready: x.Status.ReadyReplicas}
		for _, c := range x.Status.Conditions {
			w.Conditions = append(w.Conditions, WorkloadCondition{string(c.Type), string(c.Status), c.Reason, c.Message})
		}
	case *batchv1.CronJob:
		// A CronJob has no replicas: its counts are the Jobs it has running (status.active),
		// each of which is listed as a Job too. It is here for its controller's failures.
		n := int32(len(x.Status.Active))
		w = WorkloadReport{Kind: "CronJob", Namespace: x.Namespace, Name: x.Name, Desired: n, Current: n, Ready: n}
	default:
		return w, false
	}
	if w.Conditions == nil {
		w.Conditions = []WorkloadCondition{}
	}
	return w, true
}

// replicas is spec.replicas; the apiserver defaults a missing one to 1.
func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// jobWantActive is how many active pods the Job controller wants, as manageJob computes it
// (pkg/controller/job/job_controller.go): none for a finished or suspended Job; without
// completions, parallelism until a pod succeeded, then as many as are active; with
// completions, those not yet succeeded, at most parallelism.
func jobWantActive(j *batchv1.Job) int32 {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return 0
		}
	}
	if j.Spec.Suspend != nil && *j.Spec.Suspend {
		return 0
	}
	parallelism := replicas(j.Spec.Parallelism)
	if j.Spec.Completions == nil {
		if j.Status.Succeeded > 0 {
			return j.Status.Active
		}
		return parallelism
	}
	return max(min(*j.Spec.Completions-j.Status.Succeeded, parallelism), 0)
}
