package sim

import (
	"context"
	"math/rand/v2"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/informers"
	schedulingapiv1 "k8s.io/kubernetes/pkg/apis/scheduling/v1"
	"k8s.io/kubernetes/plugin/pkg/admission/priority"
)

// admissionChain is the part of kube-apiserver's admission chain a simulation needs: the real
// Priority plugin, which resolves a pod's priorityClassName (or the global default class) to
// spec.priority and spec.preemptionPolicy, rejects unknown classes, and keeps a single global
// default among PriorityClasses. It reads PriorityClasses through the synchronous informer.
type admissionChain struct {
	priority *priority.Plugin
}

func newAdmission(f informers.SharedInformerFactory) *admissionChain {
	p := priority.NewPlugin()
	p.SetExternalKubeInformerFactory(f)
	return &admissionChain{priority: p}
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
	return c.priority.Admit(ctx, c.attributes(k, op, obj, old, ns, name, subresource), nil)
}

// validate runs the validating plugins, after the strategy has validated the object.
func (c *admissionChain) validate(ctx context.Context, k *Kind, op admission.Operation, obj, old runtime.Object, ns, name, subresource string) error {
	if c == nil {
		return nil
	}
	return c.priority.Validate(ctx, c.attributes(k, op, obj, old, ns, name, subresource), nil)
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
