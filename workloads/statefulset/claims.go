package statefulset

import (
	"fmt"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// The control's claims (volumeClaimTemplates): it creates them through CreateClaim before the
// pod (createPersistentVolumeClaims, stateful_pod_control.go), reads them through GetClaim, and
// sets their ownerReferences for the set's persistentVolumeClaimRetentionPolicy through
// UpdateClaim (UpdatePodClaimForRetentionPolicy); it never deletes one, the garbage collector
// does (workloads/manager).
//
// createPersistentVolumeClaims walks getPersistentVolumeClaims's map, so with two templates or
// more the order of the creations (and with it the claims' UIDs from the seeded RNG, their
// resourceVersions and watch events) would follow Go's map iteration. So effects does not make
// a claim when the control asks: it answers that the creation succeeded, holds the claim, drops
// the control's "SuccessfulCreate" event for it, and makes the claims the control created at
// its next call (flush), in the order of the set's volumeClaimTemplates, recording the real
// events itself (recordClaimEvent's reasons and messages). The next call is CreatePod when the
// claims are a new pod's, which then fails, without creating the pod, if a claim could not be
// made, with the error createPersistentVolumeClaims would have returned. While deferring
// (effects.go), claim writes are deferred effects like pod writes: the Controller makes each
// creation itself (createClaims) and each ownerReference update (ownClaim) unless a pod write
// of the same goroutine for the same pod is replayed through CreateStatefulPod or
// UpdateStatefulPod, which redo that claim work from the stored claims (see Controller.apply).
// updateStorage walks the same map for the pod's volumes: claimVolumesInOrder puts them in
// template order.

// CreateClaim holds a claim for creation at the control's next call, or defers it.
func (e *effects) CreateClaim(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet) error {
	ef := effect{kind: createClaim, claim: claim.DeepCopy(), set: set.DeepCopy()}
	if ok, err := e.deferred(ef); ok || err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.claims = append(e.claims, ef)
	return nil
}

// GetClaim reads a stored claim, after making a held one of that name.
func (e *effects) GetClaim(namespace, name string) (*corev1.PersistentVolumeClaim, error) {
	e.mu.Lock()
	if e.deferring {
		// The goroutine works on this claim's pod: its events are placed with that pod.
		e.working[goroutineID()] = claimOrdinal(name)
	}
	held := slices.ContainsFunc(e.claims, func(ef effect) bool { return ef.claim.Name == name && ef.claim.Namespace == namespace })
	e.mu.Unlock()
	if held {
		_ = e.flush()
	}
	obj, err := e.m.Get("PersistentVolumeClaim", namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.PersistentVolumeClaim), nil
}

// UpdateClaim updates a claim (its ownerReferences) through the simulated API, or defers it.
func (e *effects) UpdateClaim(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet) error {
	if ok, err := e.deferred(effect{kind: updateClaim, claim: claim.DeepCopy(), set: set.DeepCopy()}); ok || err != nil {
		return err
	}
	_ = e.flush()
	_, err := e.m.API().Update(claim)
	return err
}

// flush makes the held claims (see CreateClaim) and returns createPersistentVolumeClaims's
// error if one could not be made; that error is also kept for the end of the sync (settle).
func (e *effects) flush() error {
	e.mu.Lock()
	if e.deferring {
		// Nothing is held while deferring: claimEvents counts the deferred creations' events.
		e.mu.Unlock()
		return nil
	}
	batch, events := e.claims, e.claimEvents
	e.claims, e.claimEvents = nil, 0
	if len(batch) == 0 && events == 0 {
		e.mu.Unlock()
		return nil
	}
	if events != len(batch) {
		err := e.misuse(fmt.Errorf("internal error: the StatefulSet control recorded %d claim events for %d claim creations", events, len(batch)))
		e.mu.Unlock()
		return err
	}
	e.mu.Unlock()
	err := e.createClaims(batch)
	if err != nil {
		e.mu.Lock()
		if e.claimErr == nil {
			e.claimErr = err
		}
		e.mu.Unlock()
	}
	return err
}

// createClaims creates claims of one pod in the order of the set's volumeClaimTemplates, and
// records the events and returns the error createPersistentVolumeClaims and recordClaimEvent
// (stateful_pod_control.go) would: "SuccessfulCreate" for each claim made, "FailedCreate" for
// each that failed other than as AlreadyExists, and the failures aggregated.
func (e *effects) createClaims(batch []effect) error {
	batch = slices.Clone(batch)
	slices.SortStableFunc(batch, func(a, b effect) int {
		return templateIndex(a.set, a.claim.Name) - templateIndex(b.set, b.claim.Name)
	})
	rec := e.m.Simulator().Recorder()
	var errs []error
	for _, ef := range batch {
		claim, set := ef.claim, ef.set
		pod := fmt.Sprintf("%s-%d", set.Name, claimOrdinal(claim.Name)) // getPodName
		_, err := e.m.API().Create(claim)
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to create PVC %s: %w", claim.Name, err))
		}
		switch {
		case err == nil:
			rec.Event(set, corev1.EventTypeNormal, "SuccessfulCreate",
				fmt.Sprintf("Create Claim %s Pod %s in StatefulSet %s success", claim.Name, pod, set.Name))
		case !apierrors.IsAlreadyExists(err):
			rec.Event(set, corev1.EventTypeWarning, "FailedCreate",
				fmt.Sprintf("Create Claim %s for Pod %s in StatefulSet %s failed error: %s", claim.Name, pod, set.Name, err))
		}
	}
	return utilerrors.NewAggregate(errs)
}

// ownClaim makes a deferred ownerReference update of a claim: the ownerReferences the control
// computed (updateClaimOwnerRefForSetAndPod) on the stored claim, unless it has them already
// or is gone, with UpdatePodClaimForRetentionPolicy's error.
func (e *effects) ownClaim(ef effect) error {
	obj, err := e.m.Get("PersistentVolumeClaim", ef.claim.Namespace, ef.claim.Name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err == nil {
		cur := obj.(*corev1.PersistentVolumeClaim)
		if apiequality.Semantic.DeepEqual(cur.OwnerReferences, ef.claim.OwnerReferences) {
			return nil
		}
		cur.OwnerReferences = ef.claim.OwnerReferences
		_, err = e.m.API().Update(cur)
	}
	if err != nil {
		return fmt.Errorf("could not update claim %s for delete policy ownerRefs: %w", ef.claim.Name, err)
	}
	return nil
}

// claimOrdinal is the ordinal of a claim's pod: a claim is named <template>-<set>-<ordinal>
// (getPersistentVolumeClaimName, stateful_set_utils.go).
func claimOrdinal(name string) int {
	m := podNameRE.FindStringSubmatch(name)
	if len(m) < 3 {
		return -1
	}
	o, err := strconv.ParseInt(m[2], 10, 32)
	if err != nil {
		return -1
	}
	return int(o)
}

// templateIndex is the index of the volumeClaimTemplate a claim of set was made from.
func templateIndex(set *appsv1.StatefulSet, claim string) int {
	o := claimOrdinal(claim)
	for i := range set.Spec.VolumeClaimTemplates {
		if fmt.Sprintf("%s-%s-%d", set.Spec.VolumeClaimTemplates[i].Name, set.Name, o) == claim {
			return i
		}
	}
	return len(set.Spec.VolumeClaimTemplates)
}

// claimVolumesInOrder returns pod with the volumes updateStorage made for set's claims in the
// order of the templates (updateStorage appends them in map order, ahead of the others).
func claimVolumesInOrder(set *appsv1.StatefulSet, pod *corev1.Pod) *corev1.Pod {
	if len(set.Spec.VolumeClaimTemplates) < 2 {
		return pod
	}
	index := map[string]int{}
	for i, t := range set.Spec.VolumeClaimTemplates {
		index[t.Name] = i
	}
	// The positions of the claims' volumes, and those volumes, sorted.
	var at []int
	var vols []corev1.Volume
	for i, v := range pod.Spec.Volumes {
		if _, ok := index[v.Name]; ok && v.PersistentVolumeClaim != nil {
			at = append(at, i)
			vols = append(vols, v)
		}
	}
	slices.SortStableFunc(vols, func(a, b corev1.Volume) int { return index[a.Name] - index[b.Name] })
	out := pod.DeepCopy()
	for i, p := range at {
		out.Spec.Volumes[p] = vols[i]
	}
	return out
}
