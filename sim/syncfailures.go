package sim

import (
	"cmp"
	"slices"

	"github.com/kwoksim/kwoksim/analysis"
)

// syncFailedReason is the reason of the warning a controller's failed sync raises.
const syncFailedReason = "SyncFailed"

// objectKey names one object of one kind.
type objectKey struct{ kind, namespace, name string }

// Synced records the outcome of one sync of a workload controller. A failure is a warning
// (reason SyncFailed), and stays the object's current failure until a later sync of the same
// object succeeds: that is how the report tells a workload whose controller still cannot do
// its work (a pod create the apiserver keeps refusing) from one that recovered, as the real
// ReplicaSet controller removes its ReplicaFailure condition once manageReplicas succeeds
// (pkg/controller/replicaset/replica_set_utils.go, calculateStatus).
func (r *Recorder) Synced(kind, namespace, name string, err error) {
	k := objectKey{kind, namespace, name}
	if err == nil {
		if r.syncFailures != nil {
			delete(r.syncFailures, k)
		}
		return
	}
	r.Warn(kind, namespace, name, syncFailedReason, err.Error())
	if r.syncFailures == nil {
		r.syncFailures = map[objectKey]analysis.WarningRecord{}
	}
	r.syncFailures[k] = r.warnings[len(r.warnings)-1]
}

// currentSyncFailures are the objects whose last sync failed, each with that failure, sorted
// by kind, namespace and name.
func (r *Recorder) currentSyncFailures() []analysis.WarningRecord {
	out := make([]analysis.WarningRecord, 0, len(r.syncFailures))
	for _, w := range r.syncFailures {
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b analysis.WarningRecord) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}
