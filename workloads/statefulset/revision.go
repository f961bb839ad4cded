package statefulset

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/kubernetes/pkg/controller/history"
)

// StatefulSet revisions. The real controller keeps each template it has seen as a
// ControllerRevision object named <set>-<hash>, whose hash labels the pods
// (controller-revision-hash). The simulator does not serve ControllerRevisions, so the history
// lives in the controller's memory; names, hashes and revision numbers are computed exactly
// as the real controller computes them (history.NewControllerRevision over the same patch),
// so pods carry the hash they would carry on a cluster.

// setRevision is one remembered revision and the template it restores.
type setRevision struct {
	cr       *appsv1.ControllerRevision
	template corev1.PodTemplateSpec
}

// patchCodec is the real controller's patchCodec.
var patchCodec = scheme.Codecs.LegacyCodec(appsv1.SchemeGroupVersion)

// getPatch is the real getPatch: the set's pod template as a strategic merge patch that
// replaces it.
func getPatch(set *appsv1.StatefulSet) ([]byte, error) {
	data, err := runtime.Encode(patchCodec, set)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	spec, ok := raw["spec"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("encoded StatefulSet has no spec")
	}
	template, ok := spec["template"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("encoded StatefulSet has no spec.template")
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
}

// newRevision is the real newRevision, keeping the template alongside.
func newRevision(set *appsv1.StatefulSet, revision int64, collisionCount *int32) (*setRevision, error) {
	patch, err := getPatch(set)
	if err != nil {
		return nil, err
	}
	cr, err := history.NewControllerRevision(set, controllerKind, set.Spec.Template.Labels, runtime.RawExtension{Raw: patch}, revision, collisionCount)
	if err != nil {
		return nil, err
	}
	return &setRevision{cr: cr, template: *set.Spec.Template.DeepCopy()}, nil
}

// revisions returns the set's current and update revisions and its collision count, recording
// a new revision when the template changed, as getStatefulSetRevisions does. The semantic
// comparison that guards against serialization changes between Kubernetes versions
// (StatefulSetSemanticRevisionComparison) has nothing to guard against here: every revision
// is encoded by this process.
func (x *Controller) revisions(set *appsv1.StatefulSet) (current, update *setRevision, collisionCount int32, err error) {
	revs := x.history[set.UID]
	if set.Status.CollisionCount != nil {
		collisionCount = *set.Status.CollisionCount
	}
	next := int64(1)
	if n := len(revs); n > 0 {
		next = revs[n-1].cr.Revision + 1
	}
	update, err = newRevision(set, next, &collisionCount)
	if err != nil {
		return nil, nil, 0, err
	}
	var equal []*setRevision
	for _, r := range revs {
		if history.EqualRevision(r.cr, update.cr) {
			equal = append(equal, r)
		}
	}
	switch {
	case len(equal) > 0 && equal[len(equal)-1] == revs[len(revs)-1]:
		// The latest revision is the template: nothing to record.
		update = revs[len(revs)-1]
	case len(equal) > 0:
		// Back to an earlier template: that revision becomes the latest.
		update = equal[len(equal)-1]
		update.cr.Revision = next
		revs = sortRevisions(revs)
	default:
		// A hash taken by a different template bumps the collision count, as creating the
		// ControllerRevision would fail with AlreadyExists.
		for revisionNamed(revs, update.cr.Name) != nil {
			collisionCount++
			if update, err = newRevision(set, next, &collisionCount); err != nil {
				return nil, nil, 0, err
			}
		}
		revs = append(revs, update)
	}
	x.history[set.UID] = revs
	current = revisionNamed(revs, set.Status.CurrentRevision)
	if current == nil {
		current = update
	}
	return current, update, collisionCount, nil
}

func revisionNamed(revs []*setRevision, name string) *setRevision {
	for _, r := range revs {
		if r.cr.Name == name {
			return r
		}
	}
	return nil
}

func sortRevisions(revs []*setRevision) []*setRevision {
	crs := make([]*appsv1.ControllerRevision, len(revs))
	byName := make(map[string]*setRevision, len(revs))
	for i, r := range revs {
		crs[i] = r.cr
		byName[r.cr.Name] = r
	}
	history.SortControllerRevisions(crs)
	out := make([]*setRevision, len(crs))
	for i, cr := range crs {
		out[i] = byName[cr.Name]
	}
	return out
}

// truncateHistory forgets revisions beyond revisionHistoryLimit that neither the set nor any
// pod uses, oldest first, as the real truncateHistory deletes them.
func (x *Controller) truncateHistory(set *appsv1.StatefulSet, pods []*corev1.Pod, current, update *setRevision) {
	live := map[string]bool{current.cr.Name: true, update.cr.Name: true}
	for _, p := range pods {
		live[p.Labels[appsv1.StatefulSetRevisionLabel]] = true
	}
	revs := x.history[set.UID]
	var old []*setRevision
	for _, r := range revs {
		if !live[r.cr.Name] {
			old = append(old, r)
		}
	}
	limit := 10
	if set.Spec.RevisionHistoryLimit != nil {
		limit = int(*set.Spec.RevisionHistoryLimit)
	}
	if limit < 0 || len(old) <= limit {
		return
	}
	drop := map[*setRevision]bool{}
	for _, r := range old[:len(old)-limit] {
		drop[r] = true
	}
	kept := revs[:0:0]
	for _, r := range revs {
		if !drop[r] {
			kept = append(kept, r)
		}
	}
	x.history[set.UID] = kept
}
