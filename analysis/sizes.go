package analysis

import (
	"sort"
	"time"
)

// WorkloadSizeRecord is what a run observed of one workload object's size: the writes that
// created it or changed its replicas, current or ready count. The simulator appends to Sizes
// as the run goes (one entry per such write, not per write), so its length grows with the
// object's changes of size, not with its status updates.
type WorkloadSizeRecord struct {
	Kind, Namespace, Name string
	// Owner is its controller owner reference as "Kind/name" ("Deployment/web"), the last it
	// had; empty when it never had one.
	Owner string
	// CreatedAt is nil for an object restored from a snapshot (it existed before the run);
	// DeletedAt nil while it exists.
	CreatedAt, DeletedAt *time.Duration
	Sizes                []WorkloadSize
}

// WorkloadSize is a workload's size after one write: Replicas what it wants, Current how
// many pods it has, Ready how many of them are ready (see WorkloadSizesReport for what each
// is per kind). At is the write's virtual time and Seq its resourceVersion, which orders the
// writes of one instant.
type WorkloadSize struct {
	At                       time.Duration
	Seq                      int64
	Replicas, Current, Ready int32
}

// NodeHistoryRecord is what a run observed of one node's Ready condition and taints: the
// write that created it and every write that changed either. Heartbeats, which change
// neither, add nothing.
type NodeHistoryRecord struct {
	Name                 string
	CreatedAt, DeletedAt *time.Duration
	Changes              []NodeStateChange
}

// NodeStateChange is a node's Ready status ("True", "False", "Unknown", "" without the
// condition) and taints ("key=value:Effect", sorted) after a write; At and Seq as for
// WorkloadSize.
type NodeStateChange struct {
	At     time.Duration
	Seq    int64
	Ready  string
	Taints []string
}

// WorkloadSizesReport is one workload object that existed during the run and its sizes over
// time. Per kind, replicas/current/ready are:
//   - Deployment, ReplicaSet, ReplicationController, StatefulSet: spec.replicas,
//     status.replicas, status.readyReplicas;
//   - DaemonSet: status.desiredNumberScheduled, currentNumberScheduled, numberReady;
//   - Job: spec.parallelism, status.active, status.ready (0 when unset).
type WorkloadSizesReport struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Owner is the controller owner reference as "Kind/name", the last it had; "" if none.
	Owner string `json:"owner"`
	// CreatedAt is null for an object restored from a snapshot; DeletedAt is left out while
	// the object exists.
	CreatedAt *float64           `json:"createdAt"`
	DeletedAt *float64           `json:"deletedAt,omitempty"`
	Sizes     []WorkloadSizeStep `json:"sizes"`
}

// WorkloadSizeStep is one entry of WorkloadSizesReport.Sizes: the size after the write
// with resourceVersion Seq, made at virtual second At. A rollout under stage-fast happens at
// one instant; (At, Seq) orders its steps.
type WorkloadSizeStep struct {
	At       float64 `json:"at"`
	Seq      int64   `json:"seq"`
	Replicas int32   `json:"replicas"`
	Current  int32   `json:"current"`
	Ready    int32   `json:"ready"`
}

// NodeHistoryReport is one node that existed during the run and its Ready status and taints
// over time.
type NodeHistoryReport struct {
	Name      string             `json:"name"`
	CreatedAt *float64           `json:"createdAt"`
	DeletedAt *float64           `json:"deletedAt,omitempty"`
	Changes   []NodeChangeReport `json:"changes"`
}

// NodeChangeReport is one entry of NodeHistoryReport.Changes.
type NodeChangeReport struct {
	At    float64 `json:"at"`
	Seq   int64   `json:"seq"`
	Ready string  `json:"ready"`
	// Taints are "key=value:Effect" ("key:Effect" without a value), sorted; [] for none.
	Taints []string `json:"taints"`
}

// workloadSizeReports lists the workloads by kind, namespace and name; an object deleted and
// created again under its name has an entry per incarnation, in creation order.
func workloadSizeReports(recs []WorkloadSizeRecord) []WorkloadSizesReport {
	if len(recs) == 0 {
		return nil
	}
	out := make([]WorkloadSizesReport, 0, len(recs))
	for _, rec := range recs {
		w := WorkloadSizesReport{Kind: rec.Kind, Namespace: rec.Namespace, Name: rec.Name, Owner: rec.Owner,
			CreatedAt: seconds(rec.CreatedAt), DeletedAt: seconds(rec.DeletedAt),
			Sizes: make([]WorkloadSizeStep, 0, len(rec.Sizes))}
		for _, s := range rec.Sizes {
			w.Sizes = append(w.Sizes, WorkloadSizeStep{At: s.At.Seconds(), Seq: s.Seq, Replicas: s.Replicas, Current: s.Current, Ready: s.Ready})
		}
		out = append(out, w)
	}
	// Stable: the records come in creation order, which orders incarnations of one name.
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return out
}

// nodeHistoryReports lists the nodes by name, incarnations of one name in creation order.
func nodeHistoryReports(recs []NodeHistoryRecord) []NodeHistoryReport {
	if len(recs) == 0 {
		return nil
	}
	out := make([]NodeHistoryReport, 0, len(recs))
	for _, rec := range recs {
		n := NodeHistoryReport{Name: rec.Name, CreatedAt: seconds(rec.CreatedAt), DeletedAt: seconds(rec.DeletedAt),
			Changes: make([]NodeChangeReport, 0, len(rec.Changes))}
		for _, c := range rec.Changes {
			taints := append([]string{}, c.Taints...)
			n.Changes = append(n.Changes, NodeChangeReport{At: c.At.Seconds(), Seq: c.Seq, Ready: c.Ready, Taints: taints})
		}
		out = append(out, n)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
