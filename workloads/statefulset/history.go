package statefulset

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/kubernetes/pkg/controller/history"

	"github.com/kwoksim/kwoksim/clock"
)

// revisions is the StatefulSet control's history.Interface: the ControllerRevisions it keeps,
// held in memory because the simulated apiserver does not serve the kind.
//
// Serving ControllerRevision in sim would store every revision through the API layer, which
// draws a UID from the run's seeded RNG and takes a resourceVersion for each: every pod and
// generated name created after a StatefulSet's first sync would change, and with them the
// golden reports of every scenario that has a StatefulSet, for objects no report shows. Here
// the revisions behave as the apiserver and the real history (history.NewHistory) would make
// them behave — namespaced names from the real hashing, AlreadyExists on a taken name (with
// equal data meaning the same revision), creationTimestamp and resourceVersion stamped, the
// deletion of a StatefulSet's revisions with it, as the garbage collector does — without
// touching the API layer. The naming, hashing and ordering are upstream's
// (history.NewControllerRevision, HashControllerRevision, ControllerRevisionName, and the
// control sorts with SortControllerRevisions).
type revisions struct {
	clock *clock.Virtual
	rv    int64
	// byName holds every revision; byOwner indexes them by their controller's UID.
	byName  map[types.NamespacedName]*appsv1.ControllerRevision
	byOwner map[types.UID]map[types.NamespacedName]bool
}

var _ history.Interface = (*revisions)(nil)

func newRevisions(c *clock.Virtual) *revisions {
	return &revisions{clock: c, byName: map[types.NamespacedName]*appsv1.ControllerRevision{}, byOwner: map[types.UID]map[types.NamespacedName]bool{}}
}

func nameOf(cr *appsv1.ControllerRevision) types.NamespacedName {
	return types.NamespacedName{Namespace: cr.Namespace, Name: cr.Name}
}

// put stores a revision, new or replacing the one of its name, stamping its resourceVersion,
// and indexes it by controller.
func (h *revisions) put(cr *appsv1.ControllerRevision) {
	h.rv++
	cr.ResourceVersion = fmt.Sprint(h.rv)
	k := nameOf(cr)
	if old := h.byName[k]; old != nil {
		h.unindex(old)
	}
	h.byName[k] = cr
	uid := types.UID("")
	if ref := metav1.GetControllerOfNoCopy(cr); ref != nil {
		uid = ref.UID
	}
	if h.byOwner[uid] == nil {
		h.byOwner[uid] = map[types.NamespacedName]bool{}
	}
	h.byOwner[uid][k] = true
}

func (h *revisions) unindex(cr *appsv1.ControllerRevision) {
	uid := types.UID("")
	if ref := metav1.GetControllerOfNoCopy(cr); ref != nil {
		uid = ref.UID
	}
	delete(h.byOwner[uid], nameOf(cr))
	if len(h.byOwner[uid]) == 0 {
		delete(h.byOwner, uid)
	}
}

// ListControllerRevisions returns the revisions parent controls and the orphans in its
// namespace that selector matches, sorted by name. They are the stored objects: callers must
// not change them (history.Interface's rule).
func (h *revisions) ListControllerRevisions(parent metav1.Object, _ schema.GroupVersionKind, selector labels.Selector) ([]*appsv1.ControllerRevision, error) {
	var out []*appsv1.ControllerRevision
	for _, uid := range []types.UID{parent.GetUID(), ""} {
		for k := range h.byOwner[uid] {
			if cr := h.byName[k]; k.Namespace == parent.GetNamespace() && selector.Matches(labels.Set(cr.Labels)) {
				out = append(out, cr)
			}
		}
	}
	slices.SortFunc(out, func(a, b *appsv1.ControllerRevision) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// CreateControllerRevision is the real history's: a name taken by a revision with other data
// bumps collisionCount and tries the next name; one with the same data is that revision.
func (h *revisions) CreateControllerRevision(parent metav1.Object, revision *appsv1.ControllerRevision, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	if collisionCount == nil {
		return nil, fmt.Errorf("collisionCount should not be nil")
	}
	clone := revision.DeepCopy()
	clone.Namespace = parent.GetNamespace()
	for {
		clone.Name = history.ControllerRevisionName(parent.GetName(), history.HashControllerRevision(revision, collisionCount))
		if exists := h.byName[nameOf(clone)]; exists != nil {
			if bytes.Equal(exists.Data.Raw, clone.Data.Raw) {
				return exists.DeepCopy(), nil
			}
			*collisionCount++
			continue
		}
		clone.CreationTimestamp = metav1.NewTime(h.clock.Now())
		h.put(clone)
		return clone.DeepCopy(), nil
	}
}

// DeleteControllerRevision deletes a stored revision.
func (h *revisions) DeleteControllerRevision(revision *appsv1.ControllerRevision) error {
	k := nameOf(revision)
	cur := h.byName[k]
	if cur == nil {
		return apierrors.NewNotFound(appsv1.Resource("controllerrevisions"), revision.Name)
	}
	h.unindex(cur)
	delete(h.byName, k)
	return nil
}

// UpdateControllerRevision sets a stored revision's Revision.
func (h *revisions) UpdateControllerRevision(revision *appsv1.ControllerRevision, newRevision int64) (*appsv1.ControllerRevision, error) {
	clone := revision.DeepCopy()
	if clone.Revision == newRevision {
		return clone, nil
	}
	if h.byName[nameOf(clone)] == nil {
		return nil, apierrors.NewNotFound(appsv1.Resource("controllerrevisions"), revision.Name)
	}
	clone.Revision = newRevision
	h.put(clone)
	return clone.DeepCopy(), nil
}

// AdoptControllerRevision makes parent the controller of an orphan revision. Nothing here
// creates orphans; it is implemented for the interface.
func (h *revisions) AdoptControllerRevision(parent metav1.Object, parentKind schema.GroupVersionKind, revision *appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	if owner := metav1.GetControllerOfNoCopy(revision); owner != nil {
		return nil, fmt.Errorf("attempt to adopt revision owned by %v", owner)
	}
	cur := h.byName[nameOf(revision)]
	if cur == nil {
		return nil, apierrors.NewNotFound(appsv1.Resource("controllerrevisions"), revision.Name)
	}
	clone := cur.DeepCopy()
	clone.OwnerReferences = append(clone.OwnerReferences, *metav1.NewControllerRef(parent, parentKind))
	h.put(clone)
	return clone.DeepCopy(), nil
}

// ReleaseControllerRevision drops parent from a revision's owners.
func (h *revisions) ReleaseControllerRevision(parent metav1.Object, revision *appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	cur := h.byName[nameOf(revision)]
	if cur == nil {
		return nil, nil // the real history ignores deleted revisions
	}
	clone := cur.DeepCopy()
	clone.OwnerReferences = slices.DeleteFunc(clone.OwnerReferences, func(r metav1.OwnerReference) bool { return r.UID == parent.GetUID() })
	h.put(clone)
	return clone.DeepCopy(), nil
}

// forget deletes the revisions a deleted StatefulSet controlled, as the garbage collector
// deletes the ControllerRevisions of a deleted owner.
func (h *revisions) forget(owner types.UID) {
	if owner == "" {
		return
	}
	for k := range h.byOwner[owner] {
		delete(h.byName, k)
	}
	delete(h.byOwner, owner)
}
