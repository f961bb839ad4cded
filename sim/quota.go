package sim

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/resourcequota"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	"k8s.io/client-go/informers"
	corev1listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/kubernetes/pkg/quota/v1/evaluator/core"
	"k8s.io/kubernetes/pkg/quota/v1/install"
	kclock "k8s.io/utils/clock"
)

// quotaAdmission is the ResourceQuota admission plugin
// (k8s.io/apiserver/pkg/admission/plugin/resourcequota) made synchronous. The real plugin
// hands each request to a worker goroutine (quotaEvaluator.Evaluate, checkAttributes,
// checkQuotas) that writes the charged quota's status through a client before the request
// may proceed; on the simulator that write would re-enter the API while the request holds
// its lock. So the decision is the plugin's own exported CheckRequest, with the real
// evaluators, and the new status.used is stored directly, inside the same write, before the
// admitted object: the order in which the real plugin persists the two.
type quotaAdmission struct {
	api      *API
	lister   corev1listers.ResourceQuotaLister
	registry quota.Registry
	ignored  map[schema.GroupResource]struct{}
}

func newQuotaAdmission(api *API, f informers.SharedInformerFactory) *quotaAdmission {
	return &quotaAdmission{
		api:    api,
		lister: f.Core().V1().ResourceQuotas().Lister(),
		// NewQuotaConfigurationForAdmission passes no lister: admission only measures the
		// object in hand (Usage), never a namespace's content.
		registry: generic.NewRegistry(QuotaEvaluators(nil, api.clock)),
		ignored:  install.DefaultIgnoredResources(),
	}
}

// QuotaEvaluators are the evaluators of core.NewEvaluators (k8s.io/kubernetes/pkg/quota/v1/
// evaluator/core/registry.go), with the simulation's clock for the pod evaluator, which
// stops charging a pod whose deletion grace period has run out (QuotaV1Pod) by reading it.
// The ResourceClaim evaluator (resource_claims.go) counts claims and the devices they request
// per DeviceClass (<class>.deviceclass.resource.k8s.io/devices); it is built without the
// DeviceClass cache, pod lister and claim index that NewEvaluators gives it for
// DRAExtendedResource, so claims are not also charged under the extended resource name a
// DeviceClass maps to (requests.<name>), and a pod's extended-resource claim is not offset
// by its pod's usage. f lists a namespace's objects for the controller's recalculation
// (UsageStats); admission passes nil.
func QuotaEvaluators(f quota.ListerForResourceFunc, clk kclock.Clock) []quota.Evaluator {
	evaluators := []quota.Evaluator{
		core.NewPodEvaluator(f, clk),
		core.NewServiceEvaluator(f),
		core.NewPersistentVolumeClaimEvaluator(f),
		core.NewResourceClaimEvaluator(f, nil, nil, nil),
	}
	// legacyObjectCountAliases, in a fixed order.
	for _, a := range []struct {
		resource string
		alias    corev1.ResourceName
	}{
		{"configmaps", corev1.ResourceConfigMaps},
		{"replicationcontrollers", corev1.ResourceReplicationControllers},
		{"resourcequotas", corev1.ResourceQuotas},
		{"secrets", corev1.ResourceSecrets},
	} {
		gvr := corev1.SchemeGroupVersion.WithResource(a.resource)
		evaluators = append(evaluators, generic.NewObjectCountEvaluator(gvr.GroupResource(), generic.ListResourceUsingListerFunc(f, gvr), a.alias))
	}
	return evaluators
}

// validate is QuotaAdmission.Validate and quotaEvaluator.Evaluate, then checkQuotas for one
// request.
func (q *quotaAdmission) validate(a admission.Attributes) error {
	if a.GetNamespace() == "" || (a.GetOperation() == admission.Create && a.GetKind().GroupKind() == corev1.SchemeGroupVersion.WithKind("Namespace").GroupKind()) {
		return nil
	}
	gr := a.GetResource().GroupResource()
	if _, ok := q.ignored[gr]; ok {
		return nil
	}
	evaluator := q.registry.Get(gr)
	if evaluator == nil {
		// As Evaluate does: count objects of a resource no evaluator knows.
		evaluator = generic.NewObjectCountEvaluator(gr, nil, "")
		q.registry.Add(evaluator)
	}
	if !evaluator.Handles(a) {
		return nil
	}
	quotas, err := q.quotas(a.GetNamespace())
	if err != nil || len(quotas) == 0 {
		return err
	}
	charged, err := resourcequota.CheckRequest(quotas, a, evaluator, nil)
	if err != nil {
		return err
	}
	k := kinds["ResourceQuota"]
	for i := range charged {
		if quota.Equals(quotas[i].Status.Used, charged[i].Status.Used) {
			continue
		}
		cur, err := q.api.tracker.Get(k.GVR, charged[i].Namespace, charged[i].Name)
		if err != nil {
			return err
		}
		if _, err := q.api.update(k, cur, &charged[i], "status"); err != nil {
			return err
		}
	}
	return nil
}

// quotas lists the namespace's quotas by name: quotaAccessor.GetQuotas lists them in the
// informer's order, which follows a Go map, and the order decides which of two exceeded
// quotas a refusal names.
func (q *quotaAdmission) quotas(ns string) ([]corev1.ResourceQuota, error) {
	items, err := q.lister.ResourceQuotas(ns).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	out := make([]corev1.ResourceQuota, len(items))
	for i, rq := range items {
		out[i] = *rq.DeepCopy()
	}
	return out, nil
}
