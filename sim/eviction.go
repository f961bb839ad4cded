package sim

import (
	goerrors "errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	pdbhelper "k8s.io/component-helpers/apps/poddisruptionbudget"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"

	"github.com/kwoksim/kwoksim/analysis"
)

// maxDisruptedPodSize is the eviction handler's MaxDisruptedPodSize: a budget with more
// evictions the disruption controller has not yet confirmed refuses further ones.
const maxDisruptedPodSize = 2000

// The DisruptionTarget condition the eviction API puts on a pod before deleting it
// (addConditionAndDeletePod).
const (
	EvictionByEvictionAPIReason  = "EvictionByEvictionAPI"
	evictionByEvictionAPIMessage = "Eviction API: evicting"
)

var evictionGroupKind = schema.GroupKind{Group: "policy", Kind: "Eviction"}

// Evict is the pods/eviction subresource, as kube-apiserver's EvictionREST.Create
// (pkg/registry/core/pod/storage/eviction.go) serves it:
//
//   - a pod that is Pending, Succeeded, Failed or already being deleted is deleted without
//     looking at budgets (canIgnorePDB);
//   - a pod selected by more than one PodDisruptionBudget is refused with the apiserver's
//     500 error; by none, deleted;
//   - a pod that is not Ready is deleted without using up the budget when the budget's
//     unhealthyPodEvictionPolicy is AlwaysAllow, or (IfHealthyBudget, the default) when the
//     budget has its desired healthy pods;
//   - otherwise checkAndDecrement: a budget whose status is older than its spec, or that
//     allows no disruption, refuses with 429 TooManyRequests (apierrors.IsTooManyRequests)
//     and the apiserver's message and cause, and the refusal is recorded
//     (Recorder.EvictionRefused); one that allows some has disruptionsAllowed decremented
//     and the pod added to status.disruptedPods at the current virtual time;
//   - then the pod gets the DisruptionTarget condition (reason EvictionByEvictionAPI)
//     through the status subresource and is deleted with the eviction's DeleteOptions:
//     gracefully, with the pod's terminationGracePeriodSeconds, unless they say otherwise.
//
// Everything happens inside one write of the API layer, so the retries on conflict the real
// handler makes are never needed. Dry-run is not supported.
func (a *API) Evict(ev *policyv1.Eviction) error {
	k := kinds["Pod"]
	if a.watching.Load() {
		return a.watcherWrote("Evict", k, ev.Namespace, ev.Name)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.evict(ev)
}

func (a *API) evict(ev *policyv1.Eviction) error {
	k := kinds["Pod"]
	opts := &metav1.DeleteOptions{}
	if ev.DeleteOptions != nil {
		opts = ev.DeleteOptions.DeepCopy()
	}
	if opts.IgnoreStoreReadErrorWithClusterBreakingPotential != nil && *opts.IgnoreStoreReadErrorWithClusterBreakingPotential {
		return apierrors.NewInvalid(evictionGroupKind, ev.Name, field.ErrorList{field.Invalid(
			field.NewPath("deleteOptions").Child("ignoreStoreReadErrorWithClusterBreakingPotential"), true,
			"can not be set for pod eviction, try after removing the option")})
	}
	if len(opts.DryRun) > 0 {
		return apierrors.NewBadRequest("dry-run evictions are not supported by the simulator")
	}
	obj, err := a.tracker.Get(k.GVR, ev.Namespace, ev.Name)
	if err != nil {
		return err
	}
	pod := obj.(*corev1.Pod)
	rvUnset := opts.Preconditions == nil || opts.Preconditions.ResourceVersion == nil

	if canIgnorePDB(pod) {
		if shouldEnforceResourceVersion(pod) && rvUnset {
			setPreconditionsResourceVersion(opts, pod.ResourceVersion)
		}
		return a.addConditionAndDeletePod(pod, opts)
	}

	pdbs, err := a.budgetsFor(pod)
	if err != nil {
		return err
	}
	if len(pdbs) > 1 {
		return &apierrors.StatusError{ErrStatus: metav1.Status{
			Status:  metav1.StatusFailure,
			Message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
			Code:    500,
		}}
	}
	if len(pdbs) == 1 {
		pdb := pdbs[0]
		if !podutil.IsPodReady(pod) && unhealthyEvictable(pdb) {
			// The unhealthy pod does not count towards the budget: delete it without using
			// up a disruption, but only as it is now (it must not have become Ready since).
			if rvUnset {
				setPreconditionsResourceVersion(opts, pod.ResourceVersion)
			}
		} else if err := a.checkAndDecrement(pod, pdb); err != nil {
			if a.evictionRefused != nil {
				a.evictionRefused(analysis.RefusedEvictionRecord{
					At:        a.clock.Now().Sub(Epoch),
					Namespace: pod.Namespace,
					Pod:       pod.Name,
					Budget:    pdb.Name,
					Message:   refusalMessage(err),
				})
			}
			return err
		}
	}
	return a.addConditionAndDeletePod(pod, opts)
}

// unhealthyEvictable is the eviction handler's test for a pod that is not Ready: the budget's
// unhealthyPodEvictionPolicy AlwaysAllow lets it go; IfHealthyBudget (or none) only while the
// application is not disrupted (currentHealthy ≥ desiredHealthy > 0).
func unhealthyEvictable(pdb *policyv1.PodDisruptionBudget) bool {
	if p := pdb.Spec.UnhealthyPodEvictionPolicy; p != nil && *p == policyv1.AlwaysAllow {
		return true
	}
	return pdb.Status.CurrentHealthy >= pdb.Status.DesiredHealthy && pdb.Status.DesiredHealthy > 0
}

// canIgnorePDB is the eviction handler's: such a pod already caused its disruption, or never
// ran.
func canIgnorePDB(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed ||
		pod.Status.Phase == corev1.PodPending || pod.DeletionTimestamp != nil
}

// shouldEnforceResourceVersion is the eviction handler's: a live pod that could become Ready
// must be deleted as it was read.
func shouldEnforceResourceVersion(pod *corev1.Pod) bool {
	return pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && pod.DeletionTimestamp == nil
}

func setPreconditionsResourceVersion(opts *metav1.DeleteOptions, rv string) {
	if opts.Preconditions == nil {
		opts.Preconditions = &metav1.Preconditions{}
	}
	opts.Preconditions.ResourceVersion = &rv
}

// budgetsFor is getPodDisruptionBudgets: the budgets of the pod's namespace whose selector
// matches its labels (one that does not parse matches nothing), in name order.
func (a *API) budgetsFor(pod *corev1.Pod) ([]*policyv1.PodDisruptionBudget, error) {
	objs, err := a.List(kinds["PodDisruptionBudget"])
	if err != nil {
		return nil, err
	}
	var out []*policyv1.PodDisruptionBudget
	for _, o := range objs {
		pdb := o.(*policyv1.PodDisruptionBudget)
		if pdb.Namespace != pod.Namespace {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		out = append(out, pdb)
	}
	return out, nil
}

// checkAndDecrement is the eviction handler's: refuse when the budget cannot be trusted or
// allows nothing; else use up one disruption and note the pod in status.disruptedPods, so
// that the disruption controller does not count it healthy while it goes.
func (a *API) checkAndDecrement(pod *corev1.Pod, cur *policyv1.PodDisruptionBudget) error {
	if cur.Status.ObservedGeneration < cur.Generation {
		return tooManyRequestsStillProcessing(cur.Name)
	}
	if cur.Status.DisruptionsAllowed < 0 {
		return budgetForbidden(cur.Name, "pdb disruptions allowed is negative",
			fmt.Sprintf("The disruption budget %s does not allow evicting pods currently: pdb disruptions allowed is negative", cur.Name))
	}
	if len(cur.Status.DisruptedPods) > maxDisruptedPodSize {
		return budgetForbidden(cur.Name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
			fmt.Sprintf("The disruption budget %s does not allow evicting pods currently: too many pending evictions not confirmed by PDB controller", cur.Name))
	}
	if cur.Status.DisruptionsAllowed == 0 {
		err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
		cond := apimeta.FindStatusCondition(cur.Status.Conditions, policyv1.DisruptionAllowedCondition)
		var msg string
		switch {
		case cond != nil && cond.Status == metav1.ConditionFalse && len(cond.Message) > 0 && cond.Reason == policyv1.SyncFailedReason:
			msg = fmt.Sprintf("The disruption budget %s does not allow evicting pods currently because it failed sync: %s", cur.Name, cond.Message)
		case cur.Status.CurrentHealthy <= cur.Status.DesiredHealthy:
			msg = fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently", cur.Name, cur.Status.DesiredHealthy, cur.Status.CurrentHealthy)
		case cond != nil && cond.Status == metav1.ConditionFalse && len(cond.Message) > 0:
			msg = fmt.Sprintf("The disruption budget %s does not allow evicting pods currently (%s): %s", cur.Name, cond.Reason, cond.Message)
		default:
			msg = fmt.Sprintf("The disruption budget %s does not allow evicting pods currently", cur.Name)
		}
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause, Message: msg})
		return err
	}
	next := cur.DeepCopy()
	next.Status.DisruptionsAllowed--
	if next.Status.DisruptionsAllowed == 0 {
		pdbhelper.UpdateDisruptionAllowedCondition(next)
		// SetStatusCondition stamps a changed condition with the wall clock.
		if c := apimeta.FindStatusCondition(next.Status.Conditions, policyv1.DisruptionAllowedCondition); c != nil {
			if prev := apimeta.FindStatusCondition(cur.Status.Conditions, policyv1.DisruptionAllowedCondition); prev != nil && prev.Status == c.Status {
				c.LastTransitionTime = prev.LastTransitionTime
			} else {
				c.LastTransitionTime = metaTime(a.clock.Now())
			}
		}
	}
	if next.Status.DisruptedPods == nil {
		next.Status.DisruptedPods = map[string]metav1.Time{}
	}
	next.Status.DisruptedPods[pod.Name] = metaTime(a.clock.Now())
	_, err := a.update(kinds["PodDisruptionBudget"], cur, next, "status")
	return err
}

// tooManyRequestsStillProcessing is createTooManyRequestsError.
func tooManyRequestsStillProcessing(name string) error {
	err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 10)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{
		Type: policyv1.DisruptionBudgetCause, Message: fmt.Sprintf("The disruption budget %s is still being processed by the server.", name)})
	return err
}

func budgetForbidden(name, reason, cause string) error {
	err := apierrors.NewForbidden(schema.GroupResource{Group: "policy", Resource: "poddisruptionbudget"}, name, goerrors.New(reason))
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause, Message: cause})
	return err
}

// refusalMessage is what a refusal says about the budget: its DisruptionBudget cause, else
// the error.
func refusalMessage(err error) string {
	var se *apierrors.StatusError
	if goerrors.As(err, &se) && se.ErrStatus.Details != nil {
		for _, c := range se.ErrStatus.Details.Causes {
			if c.Type == policyv1.DisruptionBudgetCause {
				return c.Message
			}
		}
	}
	return err.Error()
}

// addConditionAndDeletePod is the eviction handler's: check the delete's preconditions
// against the pod as stored, add the DisruptionTarget condition through the status
// subresource (the handler updates through the status store), then delete the pod with the
// eviction's options.
func (a *API) addConditionAndDeletePod(pod *corev1.Pod, opts *metav1.DeleteOptions) error {
	k := kinds["Pod"]
	if p := opts.Preconditions; p != nil {
		if uid := p.UID; uid != nil && len(*uid) > 0 && *uid != pod.UID {
			return apierrors.NewConflict(schema.GroupResource{Resource: "Pod"}, pod.Name,
				fmt.Errorf("the UID in the precondition (%s) does not match the UID in record (%s). The object might have been deleted and then recreated", *uid, pod.UID))
		}
		if rv := p.ResourceVersion; rv != nil && len(*rv) > 0 && *rv != pod.ResourceVersion {
			return apierrors.NewConflict(schema.GroupResource{Resource: "Pod"}, pod.Name,
				fmt.Errorf("the ResourceVersion in the precondition (%s) does not match the ResourceVersion in record (%s). The object might have been modified", *rv, pod.ResourceVersion))
		}
	}
	next := pod.DeepCopy()
	setDisruptionTarget(next, EvictionByEvictionAPIReason, evictionByEvictionAPIMessage, a.clock.Now())
	updated, err := a.update(k, pod, next, "status")
	if err != nil {
		return err
	}
	if opts.Preconditions != nil && opts.Preconditions.ResourceVersion != nil {
		// The condition was this handler's own write: the delete must not see it as a change.
		rv := updated.(*corev1.Pod).ResourceVersion
		opts.Preconditions.ResourceVersion = &rv
	}
	return a.delete(k, updated, opts)
}

// setDisruptionTarget sets the DisruptionTarget condition True with a reason, as podutil's
// UpdatePodCondition does, on virtual time.
func setDisruptionTarget(pod *corev1.Pod, reason, msg string, now time.Time) {
	setPodCondition(&pod.Status, corev1.PodCondition{
		Type:    corev1.DisruptionTarget,
		Status:  corev1.ConditionTrue,
		Reason:  reason,
		Message: msg,
	}, now)
}
