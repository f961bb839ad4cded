package sim

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Evict is the pods/eviction subresource (kube-apiserver's EvictionREST,
// pkg/registry/core/pod/storage/eviction.go): it deletes the pod unless a
// PodDisruptionBudget forbids the disruption, in which case it returns the apiserver's
// 429 TooManyRequests error (apierrors.IsTooManyRequests) and records the refusal
// (Recorder.EvictionRefused).
//
// TODO(sim-core): the budget checks; for now it deletes as asked.
func (a *API) Evict(ev *policyv1.Eviction) error {
	k := kinds["Pod"]
	opts := ev.DeleteOptions
	if a.watching.Load() {
		return a.watcherWrote("Evict", k, ev.Namespace, ev.Name)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	cur, err := a.tracker.Get(k.GVR, ev.Namespace, ev.Name)
	if err != nil {
		return err
	}
	if opts == nil {
		return a.delete(k, cur, &metav1.DeleteOptions{})
	}
	return a.delete(k, cur, opts)
}
