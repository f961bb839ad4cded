package manager

import (
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/sim"
)

// The garbage collector (pkg/controller/garbagecollector) deletes an object once every owner
// its ownerReferences name is gone, controller or not, with background propagation (the
// default for a delete without options): attemptToDeleteItem finds each owner "dangling" (no
// object of that kind and name with that UID) or "solid", deletes the object when none is
// solid, and otherwise patches the dangling references out of it.
//
// Most dependents have a single owner, their controller (a pod and its ReplicaSet), and the
// owner index (owned) holds them: when the controller goes they go, with no reads. The others
// (more than one ownerReference, or one that is not a controller's) are indexed under every
// owner they name (dependents) and checked when one of those owners goes: each owner is looked
// up by the reference's kind and name, in the dependent's namespace, and compared by UID.
// A kind the simulator does not serve counts as a live owner, as the real collector cannot
// resolve it either and leaves the dependent alone.
//
// Deliberate deviations: an object is looked at only when one of its owners is deleted, not
// when it is created or updated naming an owner that is already gone (the real collector's
// graph would find that owner absent and delete it); foreground and orphan propagation are not
// modelled (dependents are deleted as with background propagation, the default).

// hasOtherOwners reports whether obj's owners are anything but a single controller, which the
// owner index covers alone.
func hasOtherOwners(obj metav1.Object) bool {
	refs := obj.GetOwnerReferences()
	return len(refs) > 1 || (len(refs) == 1 && (refs[0].Controller == nil || !*refs[0].Controller))
}

// unindexOwners drops the index entries of an object's previous state (old) that its new
// controller reference (ref, nil for none) no longer justifies; indexDependent then indexes
// the new state.
func (m *Manager) unindexOwners(k Key, old metav1.Object, ref *metav1.OwnerReference) {
	if oref := metav1.GetControllerOfNoCopy(old); oref != nil && (ref == nil || oref.UID != ref.UID) {
		delete(m.owned[oref.UID], k)
		if len(m.owned[oref.UID]) == 0 {
			delete(m.owned, oref.UID)
		}
	}
	if hasOtherOwners(old) {
		for _, r := range old.GetOwnerReferences() {
			m.undepend(r.UID, k)
		}
	}
}

// indexDependent indexes an object with other owners under each of them, or drops it when it
// is gone.
func (m *Manager) indexDependent(k Key, obj metav1.Object, gone bool) {
	if !hasOtherOwners(obj) {
		return
	}
	for _, r := range obj.GetOwnerReferences() {
		if gone {
			m.undepend(r.UID, k)
			continue
		}
		if m.dependents[r.UID] == nil {
			m.dependents[r.UID] = map[Key]bool{}
		}
		m.dependents[r.UID][k] = true
	}
}

func (m *Manager) undepend(owner types.UID, k Key) {
	delete(m.dependents[owner], k)
	if len(m.dependents[owner]) == 0 {
		delete(m.dependents, owner)
	}
}

// collectGarbage deletes, in a clock event at this instant (never inside the watch), what a
// deleted object controlled alone, and every dependent of it left with no live owner.
func (m *Manager) collectGarbage(owner types.UID) {
	only := map[Key]bool{}
	for k, o := range m.owned[owner] {
		if !hasOtherOwners(o.(metav1.Object)) {
			only[k] = true
		}
	}
	if len(only) == 0 && len(m.dependents[owner]) == 0 {
		return
	}
	keys := make([]Key, 0, len(only)+len(m.dependents[owner]))
	for k := range only {
		keys = append(keys, k)
	}
	for k := range m.dependents[owner] {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, Key.Compare)
	m.s.Clock().AfterDelay(0, func() {
		for _, k := range keys {
			kind, err := sim.KindNamed(k.Kind)
			if err != nil {
				continue
			}
			if !only[k] && !m.ownersGone(kind, k) {
				continue
			}
			// Already gone or being deleted is fine; anything else is worth a warning.
			if err := m.s.API().Delete(kind, k.Namespace, k.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				m.Warn(k.Kind, k.Namespace, k.Name, "GarbageCollectionFailed", err.Error())
			}
		}
	})
}

// ownersGone reports whether none of a stored dependent's owners is alive; when some are, it
// removes the references to the dangling ones, as attemptToDeleteItem patches them out.
func (m *Manager) ownersGone(kind *sim.Kind, k Key) bool {
	obj, err := m.s.API().Get(kind, k.Namespace, k.Name)
	if err != nil {
		return false // gone already
	}
	dep := obj.(metav1.Object)
	refs := dep.GetOwnerReferences()
	var solid, dangling []metav1.OwnerReference
	for _, r := range refs {
		if m.ownerAlive(r, k.Namespace) {
			solid = append(solid, r)
		} else {
			dangling = append(dangling, r)
		}
	}
	if len(solid) == 0 {
		return len(dangling) > 0
	}
	if len(dangling) > 0 {
		dep.SetOwnerReferences(solid)
		if _, err := m.s.API().Update(obj); err != nil && !apierrors.IsNotFound(err) {
			m.Warn(k.Kind, k.Namespace, k.Name, "GarbageCollectionFailed", err.Error())
		}
	}
	return false
}

// ownerAlive reports whether the object a reference names exists with its UID.
func (m *Manager) ownerAlive(r metav1.OwnerReference, ns string) bool {
	kind, err := sim.KindNamed(r.Kind)
	if err != nil {
		return true // unknown to the simulator: not known to be gone
	}
	if !kind.Namespaced {
		ns = ""
	}
	owner, err := m.s.API().Get(kind, ns, r.Name)
	if err != nil {
		return !apierrors.IsNotFound(err)
	}
	return owner.(metav1.Object).GetUID() == r.UID
}
