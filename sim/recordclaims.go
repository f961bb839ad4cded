package sim

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	storagehelpers "k8s.io/component-helpers/storage/volume"

	"github.com/kwoksim/kwoksim/analysis"
)

// claimLog follows the PersistentVolumeClaims for the report's volumes section: one record
// per claim, overwritten at each write (O(claims), not O(writes)), plus what a record needs
// from other kinds: which storage classes delay binding, and each volume's node affinity.
type claimLog struct {
	claims []analysis.ClaimRecord
	index  map[types.UID]int32
	// byName finds the existing claim an event names (events name objects, not UIDs).
	byName map[objectKey]int32
	// delayed are the storage classes whose volumeBindingMode is WaitForFirstConsumer.
	delayed map[string]bool
	// affinity is each volume's NodeAffinitySummary, for the volumes that have one.
	affinity map[string]string
}

func (l *claimLog) init() {
	if l.index == nil {
		l.index, l.byName = map[types.UID]int32{}, map[objectKey]int32{}
		l.delayed, l.affinity = map[string]bool{}, map[string]string{}
	}
}

// observeClass notes whether a storage class delays binding until a pod uses the claim.
func (l *claimLog) observeClass(typ watch.EventType, c *storagev1.StorageClass) {
	l.init()
	delete(l.delayed, c.Name)
	if typ != watch.Deleted && c.VolumeBindingMode != nil && *c.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer {
		l.delayed[c.Name] = true
	}
}

// observeVolume notes a volume's node affinity, which a claim bound to it reports.
func (l *claimLog) observeVolume(typ watch.EventType, pv *corev1.PersistentVolume) {
	l.init()
	delete(l.affinity, pv.Name)
	if s := analysis.NodeAffinitySummary(pv.Spec.NodeAffinity); typ != watch.Deleted && s != "" {
		l.affinity[pv.Name] = s
	}
}

// observeClaim updates a claim's record at virtual time now.
func (l *claimLog) observeClaim(typ watch.EventType, c *corev1.PersistentVolumeClaim, restored bool, now time.Duration) {
	l.init()
	i, ok := l.index[c.UID]
	if !ok {
		if typ == watch.Deleted {
			return // deleted before this log saw it: nothing to say
		}
		i = int32(len(l.claims))
		l.index[c.UID] = i
		rec := analysis.ClaimRecord{Namespace: c.Namespace, Name: c.Name, Restored: restored}
		if !restored {
			rec.CreatedAt = &now
		}
		l.claims = append(l.claims, rec)
		l.byName[objectKey{namespace: c.Namespace, name: c.Name}] = i
	}
	rec := &l.claims[i]
	at := func() *time.Duration { t := now; return &t }
	if typ == watch.Deleted {
		if rec.TerminatingAt == nil {
			rec.TerminatingAt = at()
		}
		rec.DeletedAt = at()
		delete(l.index, c.UID)
		if l.byName[objectKey{namespace: c.Namespace, name: c.Name}] == i {
			delete(l.byName, objectKey{namespace: c.Namespace, name: c.Name})
		}
		return
	}
	rec.StorageClass = storagehelpers.GetPersistentVolumeClaimClass(c)
	rec.Phase, rec.Volume = c.Status.Phase, c.Spec.VolumeName
	rec.SelectedNode = c.Annotations[storagehelpers.AnnSelectedNode]
	rec.Terminating = c.DeletionTimestamp != nil
	if rec.Terminating && rec.TerminatingAt == nil {
		rec.TerminatingAt = at()
	}
	// Provisionable: the PV controller acts on the claim at once unless its class binds
	// WaitForFirstConsumer (IsDelayBindingMode in k8s.io/component-helpers/storage/volume:
	// no class, or a class that does not exist, is immediate), then once the scheduler set
	// the selected node; a claim that names its volume is bound whatever the mode
	// (syncUnboundClaim in pkg/controller/volume/persistentvolume/pv_controller.go).
	if rec.ProvisionableAt == nil && !restored &&
		(!l.delayed[rec.StorageClass] || rec.SelectedNode != "" || rec.Volume != "") {
		rec.ProvisionableAt = at()
	}
	if rec.BoundAt == nil && c.Status.Phase == corev1.ClaimBound {
		rec.BoundAt = at()
	}
}

// warn records a Warning event on a claim, the last of which the report shows.
func (l *claimLog) warn(ev Event) {
	if i, ok := l.byName[objectKey{namespace: ev.Namespace, name: ev.Name}]; ok {
		l.claims[i].LastWarning = &analysis.ClaimEvent{At: ev.At, Reason: ev.Reason, Message: ev.Message}
	}
}

// records are the claims in creation order, each with its volume's node affinity as it is
// now.
func (l *claimLog) records() []analysis.ClaimRecord {
	if len(l.claims) == 0 {
		return nil
	}
	out := append([]analysis.ClaimRecord(nil), l.claims...)
	for i := range out {
		if out[i].Volume != "" && out[i].Phase == corev1.ClaimBound {
			out[i].VolumeAffinity = l.affinity[out[i].Volume]
		}
	}
	return out
}
