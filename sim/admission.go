package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	schedulingapiv1 "k8s.io/kubernetes/pkg/apis/scheduling/v1"
	"k8s.io/kubernetes/plugin/pkg/admission/limitranger"
	"k8s.io/kubernetes/plugin/pkg/admission/priority"
)

// admissionChain is the part of kube-apiserver's admission chain a simulation needs, in the
// order of AllOrderedPlugins (k8s.io/kubernetes/pkg/kubeapiserver/options/plugins.go):
//
//   - LimitRanger, the real plugin: it defaults a new pod's container requests and limits from
//     the namespace's LimitRanges (mutating) and refuses a pod outside their min/max/ratio
//     (validating);
//   - Priority, the real plugin: it resolves a pod's priorityClassName (or the global default
//     class) to spec.priority and spec.preemptionPolicy, rejects unknown classes, and keeps a
//     single global default among PriorityClasses;
//   - DefaultTolerationSeconds, re-implemented with the run's settings
//     (sim/tolerationseconds.go): every pod tolerates the not-ready and unreachable NoExecute
//     taints for 300 s unless it says otherwise;
//   - DefaultStorageClass and StorageObjectInUseProtection, re-implemented
//     (sim/storageadmission.go): a new claim without a class gets the default one, new claims
//     and volumes get their protection finalizers;
//   - ResourceQuota, last of the validating plugins, as in kube-apiserver: the real
//     resourcequota.CheckRequest with the real evaluators, run synchronously (sim/quota.go).
//
// The plugins read LimitRanges, PriorityClasses, StorageClasses and ResourceQuotas through the
// synchronous informers.
type admissionChain struct {
	limitRanger *limitranger.LimitRanger
	priority    *priority.Plugin
	quota       *quotaAdmission
	// tolerations is nil until sim.New sets it from Config.ControlPlane.
	tolerations *defaultTolerationSeconds
	nodeTaint   *nodeTaintAdmission // TaintNodesByCondition, sim/nodetaint.go
	storage     *storageAdmission   // DefaultStorageClass, StorageObjectInUseProtection
	// disabled are the plugins Config.DisableAdmissionPlugins turns off, by kube-apiserver's
	// names for them (--disable-admission-plugins).
	disabled map[string]bool
}

// AdmissionPlugins are the admission plugins the simulated apiserver runs, by the names
// kube-apiserver's --disable-admission-plugins takes, in the order they run.
var AdmissionPlugins = []string{
	"LimitRanger", "TaintNodesByCondition", "Priority", "DefaultTolerationSeconds",
	"DefaultStorageClass", "StorageObjectInUseProtection", "ResourceQuota",
}

// CheckAdmissionPlugins checks names to disable (Config.DisableAdmissionPlugins) against
// AdmissionPlugins: an *AdmissionPluginError for the first that kwoksim does not run. Unlike
// kube-apiserver, which knows every plugin, kwoksim cannot tell a plugin it leaves out from a
// misspelt one, so it refuses both rather than ignore a name that changes nothing.
func CheckAdmissionPlugins(names []string) error {
	for _, n := range names {
		if !slices.Contains(AdmissionPlugins, n) {
			return &AdmissionPluginError{Name: n}
		}
	}
	return nil
}

// AdmissionPluginError is an admission plugin to disable that the simulated apiserver does not
// run.
type AdmissionPluginError struct{ Name string }

func (e *AdmissionPluginError) Error() string {
	return fmt.Sprintf("admission plugin %q: kwoksim runs only %s", e.Name, strings.Join(AdmissionPlugins, ", "))
}

// BadInput marks the error as bad input (kwoksim exits 2).
func (*AdmissionPluginError) BadInput() {}

// on reports whether the plugin named as kube-apiserver names it is enabled.
func (c *admissionChain) on(name string) bool { return !c.disabled[name] }

func newAdmission(api *API, f informers.SharedInformerFactory) (*admissionChain, error) {
	lr, err := limitranger.NewLimitRanger(&limitranger.DefaultLimitRangerActions{})
	if err != nil {
		return nil, err
	}
	lr.SetExternalKubeInformerFactory(f)
	// When the lister finds no LimitRange in a namespace, LimitRanger asks the apiserver
	// directly (GetLimitRanges), in case its informer lags, and caches that answer for 30 s of
	// wall time. The synchronous informer never lags: storage has no LimitRange there either.
	// So the plugin gets a client of its own with nothing in it, which gives the same answer
	// without a wall-clock-dependent read of the simulator's storage; the wall clock then only
	// decides how often that empty answer is asked for again, never what it is. Its own
	// clientset also keeps the lookup off the scheduler's, whose lock may be held by the write
	// being admitted.
	lr.SetExternalKubeClientSet(fake.NewSimpleClientset())
	if err := lr.ValidateInitialization(); err != nil {
		return nil, err
	}
	p := priority.NewPlugin()
	p.SetExternalKubeInformerFactory(f)
	return &admissionChain{limitRanger: lr, priority: p, quota: newQuotaAdmission(api, f), storage: newStorageAdmission(f)}, nil
}

func (c *admissionChain) attributes(k *Kind, op admission.Operation, obj, old runtime.Object, ns, name, subresource string) admission.Attributes {
	return admission.NewAttributesRecord(obj, old, k.GVK, ns, name, k.GVR, subresource, op, nil, false, nil)
}

// admit runs the mutating plugins on an internal object, before the strategy, as
// kube-apiserver does.
func (c *admissionChain) admit(ctx context.Context, k *Kind, op admission.Operation, obj, old runtime.Object, ns, name, subresource string) error {
	if c == nil {
		return nil
	}
	attrs := c.attributes(k, op, obj, old, ns, name, subresource)
	if c.on("LimitRanger") && c.limitRanger.Handles(op) {
		if err := c.limitRanger.Admit(ctx, attrs, nil); err != nil {
			return err
		}
	}
	if c.on("TaintNodesByCondition") {
		if err := c.nodeTaint.admit(ctx, attrs); err != nil {
			return err
		}
	}
	if c.on("Priority") {
		if err := c.priority.Admit(ctx, attrs, nil); err != nil {
			return err
		}
	}
	if c.on("DefaultTolerationSeconds") {
		if err := c.tolerations.admit(ctx, attrs); err != nil {
			return err
		}
	}
	return c.storage.admit(ctx, attrs, c.on("DefaultStorageClass"), c.on("StorageObjectInUseProtection"))
}

// validate runs the validating plugins, after the strategy has validated the object.
// ResourceQuota, the last, charges the object to the namespace's quotas: it stores their new
// status.used before the object itself is stored, as the real plugin does.
func (c *admissionChain) validate(ctx context.Context, k *Kind, op admission.Operation, obj, old runtime.Object, ns, name, subresource string) error {
	if c == nil {
		return nil
	}
	attrs := c.attributes(k, op, obj, old, ns, name, subresource)
	if c.on("LimitRanger") && c.limitRanger.Handles(op) {
		if err := c.limitRanger.Validate(ctx, attrs, nil); err != nil {
			return err
		}
	}
	if c.on("Priority") {
		if err := c.priority.Validate(ctx, attrs, nil); err != nil {
			return err
		}
	}
	if !c.on("ResourceQuota") {
		return nil
	}
	return c.quota.validate(attrs)
}

// bootstrap creates what kube-apiserver creates when it starts: the system PriorityClasses.
// They draw their UIDs from a stream of their own, so that they do not shift the UIDs and
// generated names of everything the run creates.
func (a *API) bootstrap(rng *rand.Rand) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	saved := a.rng
	a.rng = rng
	defer func() { a.rng = saved }()
	k := kinds["PriorityClass"]
	for _, pc := range schedulingapiv1.SystemPriorityClasses() {
		if _, err := a.create(k, pc); err != nil {
			return err
		}
	}
	return nil
}
