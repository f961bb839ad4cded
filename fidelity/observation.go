package fidelity

// Observation is what happened in one scenario: recorded from a real cluster (Source "real"),
// one Run per repeat, or computed from kwoksim's report (Source "kwoksim"), one Run. Times are
// seconds since the scenario's t=0: the instant the first trace event was carried out.
type Observation struct {
	Scenario string `json:"scenario"`
	// Source is "real" or "kwoksim".
	Source string `json:"source"`
	// Command is the command that produced the file (for the real cluster: the make target
	// and the recorder's flags), so that anyone can record it again.
	Command string `json:"command"`
	// Versions are the components' versions ("kube-scheduler": "v1.37.2", "kwok": "v0.8.0").
	Versions map[string]string `json:"versions,omitempty"`
	// RecordedOn is the date of the recording (real cluster only; not a simulation input).
	RecordedOn string `json:"recordedOn,omitempty"`
	Runs       []Run  `json:"runs"`
}

// Run is one execution of the scenario.
type Run struct {
	// Duration is how long the scenario was observed, in seconds after t=0.
	Duration  float64    `json:"duration"`
	Pods      []Pod      `json:"pods"`
	Workloads []Workload `json:"workloads"`
	Nodes     []Node     `json:"nodes"`
	// HPAs are the HorizontalPodAutoscalers that existed during the run (left out when none,
	// so that observations recorded before HPAs were recorded read the same).
	HPAs []HPA `json:"hpas,omitempty"`
}

// Pod is one pod that existed during the run. A time is nil when the pod never got there
// within the run.
type Pod struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Owner is the pod's controller as "Kind/name" ("ReplicaSet/web-5d4f8c7b9"), "" for none.
	Owner string `json:"owner"`
	// Node is the node the pod was bound to, "" if never.
	Node string `json:"node"`
	// Created is when the pod was first seen; Scheduled when it was bound; Running when its
	// phase was first Running; DeletionRequested when it got a deletionTimestamp (or was
	// deleted outright, the earlier); Gone when it was removed.
	Created           *float64 `json:"created"`
	Scheduled         *float64 `json:"scheduled"`
	Running           *float64 `json:"running"`
	DeletionRequested *float64 `json:"deletionRequested"`
	Gone              *float64 `json:"gone"`
	// Phase is the pod's phase at the end of the run, "" if it was gone by then.
	Phase string `json:"phase"`
	// EvictionReason is the reason of a True DisruptionTarget condition
	// ("DeletionByTaintManager", "EvictionByEvictionAPI", "DeletionByPodGC", …), "" if none.
	EvictionReason string `json:"evictionReason,omitempty"`
	// Unschedulable is the scheduler's last message for the pod while it could not be
	// scheduled (the PodScheduled=False condition's message), "" if it never was.
	Unschedulable string `json:"unschedulable,omitempty"`
}

// Workload is one workload object (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job) that
// existed during the run, with its sizes over time.
type Workload struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Owner is its controller as "Kind/name", "" for none.
	Owner string `json:"owner"`
	// Sizes are its sizes after each change, in the order the changes happened.
	Sizes []Size `json:"sizes"`
}

// Size is a workload's size after one write. Replicas is what it wants (spec.replicas; a
// DaemonSet's desiredNumberScheduled; a Job's parallelism), Current what it has
// (status.replicas; currentNumberScheduled; active), Ready its ready pods.
type Size struct {
	At float64 `json:"at"`
	// Seq orders the writes made at one instant: the object's resourceVersion (etcd's
	// revision in a real cluster, the write counter in kwoksim). Comparable within a run only.
	Seq      int64 `json:"seq"`
	Replicas int32 `json:"replicas"`
	Current  int32 `json:"current"`
	Ready    int32 `json:"ready"`
}

// Node is one node that existed during the run.
type Node struct {
	Name    string   `json:"name"`
	Deleted *float64 `json:"deleted,omitempty"`
	// Changes are the node's Ready status and taints after each write that changed either.
	Changes []NodeChange `json:"changes"`
}

// NodeChange is a node's state after one write.
type NodeChange struct {
	At  float64 `json:"at"`
	Seq int64   `json:"seq"`
	// Ready is the Ready condition's status: "True", "False", "Unknown", or "" when absent.
	Ready string `json:"ready"`
	// Taints are "key=value:Effect" ("key:Effect" without a value), sorted.
	Taints []string `json:"taints"`
}
