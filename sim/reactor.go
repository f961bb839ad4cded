package sim

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
)

// Independent RNG streams drawn from the run's seed, one per purpose, so that a change in how
// often one consumer draws does not shift what another one gets.
const (
	streamAPI uint64 = iota + 1
	streamStages
	streamWorkloads
	streamPreemption
	streamBootstrap
)

// react routes the scheduler's writes through the fake clientset into the API layer, so they
// get the same treatment as the simulator's own writes. Reads fall through to the tracker.
func (a *API) react(action k8stesting.Action) (bool, runtime.Object, error) {
	k := kindForResource(action.GetResource().Resource)
	if k == nil {
		return false, nil, nil
	}
	switch act := action.(type) {
	case k8stesting.CreateAction:
		if act.GetSubresource() == "binding" {
			b, ok := act.GetObject().(*corev1.Binding)
			if !ok {
				return false, nil, nil
			}
			b = b.DeepCopy()
			if b.Namespace == "" {
				b.Namespace = act.GetNamespace()
			}
			return true, nil, a.Bind(b)
		}
		if act.GetSubresource() != "" {
			return false, nil, nil
		}
		obj, err := a.Create(act.GetObject())
		return true, obj, err
	case k8stesting.UpdateAction:
		obj, err := a.updateObject(act.GetObject(), act.GetSubresource())
		return true, obj, err
	case k8stesting.PatchAction:
		obj, err := a.Patch(k, act.GetNamespace(), act.GetName(), act.GetPatchType(), act.GetPatch(), act.GetSubresource())
		return true, obj, err
	case k8stesting.DeleteAction:
		opts := act.GetDeleteOptions()
		return true, nil, a.Delete(k, act.GetNamespace(), act.GetName(), *opts.DeepCopy())
	}
	return false, nil, nil
}

func kindForResource(resource string) *Kind {
	for _, k := range kinds {
		if k.GVR.Resource == resource {
			return k
		}
	}
	return nil
}
