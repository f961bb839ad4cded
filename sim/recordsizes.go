package sim

import (
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/analysis"
)

// sizeLog is the recorder's part that follows workload sizes and node states over time, for
// the report's workloadSizes and nodeHistory. It appends an entry only on a write that
// changes what it follows, so a workload's status writes that move no count and a node's
// heartbeats cost nothing; it keeps nothing per pod.
type sizeLog struct {
	workloads []analysis.WorkloadSizeRecord
	// workloadIndex finds an object's record by UID: a name deleted and created again is a
	// new record.
	workloadIndex map[types.UID]int32
	nodes         []analysis.NodeHistoryRecord
	nodeIndex     map[types.UID]int32
	// nodeTaints are, by the index of nodes, the taints of the write last logged (the stored
	// object's own slice, which is never modified), so that a heartbeat is compared without
	// formatting a string; nil once the node is gone.
	nodeTaints [][]corev1.Taint
}

// workloadSize is the (replicas, current, ready) of a workload object, and whether obj is one.
// The fields follow what the report's workloads[] reads, except that a Job's replicas is its
// spec.parallelism as written, not what manageJob wants.
func workloadSize(obj any) (replicas, current, ready int32, ok bool) {
	// spec.replicas and spec.parallelism default to 1 (SetDefaults_Deployment, _ReplicaSet,
	// _StatefulSet, _ReplicationController, _Job in pkg/apis/*/v1/defaults.go), which the
	// API's defaulting has already applied to a stored object; the fallback only covers an
	// object stored without it.
	one := func(p *int32) int32 {
		if p == nil {
			return 1
		}
		return *p
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return one(o.Spec.Replicas), o.Status.Replicas, o.Status.ReadyReplicas, true
	case *appsv1.ReplicaSet:
		return one(o.Spec.Replicas), o.Status.Replicas, o.Status.ReadyReplicas, true
	case *corev1.ReplicationController:
		return one(o.Spec.Replicas), o.Status.Replicas, o.Status.ReadyReplicas, true
	case *appsv1.StatefulSet:
		return one(o.Spec.Replicas), o.Status.Replicas, o.Status.ReadyReplicas, true
	case *appsv1.DaemonSet:
		return o.Status.DesiredNumberScheduled, o.Status.CurrentNumberScheduled, o.Status.NumberReady, true
	case *batchv1.Job:
		var r int32
		if o.Status.Ready != nil {
			r = *o.Status.Ready
		}
		return one(o.Spec.Parallelism), o.Status.Active, r, true
	}
	return 0, 0, 0, false
}

// seq is a write's resourceVersion as an integer; the API layer numbers its writes 1, 2, …
// (API.store), so it orders writes made at one virtual instant.
func seq(m metav1.Object) int64 {
	n, _ := strconv.ParseInt(m.GetResourceVersion(), 10, 64)
	return n
}

// observeWorkload records a workload's creation, deletion, and the writes that change its
// size; it ignores objects of other kinds.
func (l *sizeLog) observeWorkload(r *Recorder, ev WatchEvent) {
	replicas, current, ready, ok := workloadSize(ev.Object)
	if !ok {
		return
	}
	m := ev.Object.(metav1.Object)
	if l.workloadIndex == nil {
		l.workloadIndex = map[types.UID]int32{}
	}
	i, known := l.workloadIndex[m.GetUID()]
	if !known {
		if ev.Type == watch.Deleted {
			return // deleted before this recorder saw it: nothing to say
		}
		i = int32(len(l.workloads))
		l.workloadIndex[m.GetUID()] = i
		rec := analysis.WorkloadSizeRecord{Kind: ev.Kind.Name(), Namespace: m.GetNamespace(), Name: m.GetName()}
		if !ev.Restored {
			rec.CreatedAt = r.elapsed()
		}
		l.workloads = append(l.workloads, rec)
	}
	rec := &l.workloads[i]
	// The owner is formatted only when it changes: a status write costs no allocation.
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil && !isOwner(rec.Owner, ref) {
		rec.Owner = ref.Kind + "/" + ref.Name
	}
	if ev.Type == watch.Deleted {
		rec.DeletedAt = r.elapsed()
		delete(l.workloadIndex, m.GetUID())
		return
	}
	if n := len(rec.Sizes); n > 0 {
		last := rec.Sizes[n-1]
		if last.Replicas == replicas && last.Current == current && last.Ready == ready {
			return
		}
	}
	rec.Sizes = append(rec.Sizes, analysis.WorkloadSize{At: r.clock.Now().Sub(Epoch), Seq: seq(m),
		Replicas: replicas, Current: current, Ready: ready})
}

// isOwner tells whether owner is ref formatted as "Kind/name".
func isOwner(owner string, ref *metav1.OwnerReference) bool {
	return len(owner) == len(ref.Kind)+1+len(ref.Name) && strings.HasPrefix(owner, ref.Kind) &&
		owner[len(ref.Kind)] == '/' && strings.HasSuffix(owner, ref.Name)
}

// observeNodeState records a node's creation, deletion, and the writes that change its Ready
// status or its taints.
func (l *sizeLog) observeNodeState(r *Recorder, ev WatchEvent, n *corev1.Node) {
	if l.nodeIndex == nil {
		l.nodeIndex = map[types.UID]int32{}
	}
	i, known := l.nodeIndex[n.UID]
	if !known {
		if ev.Type == watch.Deleted {
			return
		}
		i = int32(len(l.nodes))
		l.nodeIndex[n.UID] = i
		rec := analysis.NodeHistoryRecord{Name: n.Name}
		if !ev.Restored {
			rec.CreatedAt = r.elapsed()
		}
		l.nodes = append(l.nodes, rec)
		l.nodeTaints = append(l.nodeTaints, nil)
	}
	rec := &l.nodes[i]
	if ev.Type == watch.Deleted {
		rec.DeletedAt = r.elapsed()
		delete(l.nodeIndex, n.UID)
		l.nodeTaints[i] = nil
		return
	}
	ready := readyStatus(n)
	if c := len(rec.Changes); c > 0 {
		last := rec.Changes[c-1]
		if last.Ready == ready && sameTaints(l.nodeTaints[i], last.Taints, n.Spec.Taints) {
			return
		}
	}
	l.nodeTaints[i] = n.Spec.Taints
	rec.Changes = append(rec.Changes, analysis.NodeStateChange{At: r.clock.Now().Sub(Epoch), Seq: seq(n),
		Ready: ready, Taints: taintStrings(n.Spec.Taints)})
}

// readyStatus is the status of the node's Ready condition, "" without one.
func readyStatus(n *corev1.Node) string {
	for i := range n.Status.Conditions {
		if c := &n.Status.Conditions[i]; c.Type == corev1.NodeReady {
			return string(c.Status)
		}
	}
	return ""
}

// taintStrings are the taints as Taint.ToString writes them ("key=value:Effect", "key:Effect"
// without a value), sorted; nil for none.
func taintStrings(ts []corev1.Taint) []string {
	if len(ts) == 0 {
		return nil
	}
	out := make([]string, len(ts))
	for i := range ts {
		out[i] = ts[i].ToString()
	}
	sort.Strings(out)
	return out
}

// sameTaints tells whether taints are the set logged: prev, the taints of the write logged,
// and logged, the same as sorted strings. A heartbeat carries the taints as they were, so
// comparing them field by field with prev settles it without formatting; only taints in
// another order, or changed, are formatted and compared as a set.
func sameTaints(prev []corev1.Taint, logged []string, taints []corev1.Taint) bool {
	if len(logged) != len(taints) {
		return false
	}
	if len(prev) == len(taints) {
		same := true
		for i := range taints {
			a, b := &prev[i], &taints[i]
			if a.Key != b.Key || a.Value != b.Value || a.Effect != b.Effect {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	got := taintStrings(taints)
	for i := range got {
		if got[i] != logged[i] {
			return false
		}
	}
	return true
}

// records copies the logs for an observation: the records as they are now. Sizes and
// Changes are only ever appended to, so the copies can share their arrays.
func (l *sizeLog) records() ([]analysis.WorkloadSizeRecord, []analysis.NodeHistoryRecord) {
	return append([]analysis.WorkloadSizeRecord(nil), l.workloads...), append([]analysis.NodeHistoryRecord(nil), l.nodes...)
}
