package sim

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/admission"
	api "k8s.io/kubernetes/pkg/apis/core"

	"github.com/kwoksim/kwoksim/controlplane"
)

// defaultTolerationSeconds is kube-apiserver's DefaultTolerationSeconds admission plugin
// (plugin/pkg/admission/defaulttolerationseconds, Plugin.Admit): every pod created or updated
// that does not already tolerate the node.kubernetes.io/not-ready or /unreachable NoExecute
// taint gets a toleration for it with tolerationSeconds, so that the taint eviction
// controller evicts it that long after its node fails. The real plugin reads the seconds from
// process-wide flag variables (--default-not-ready-toleration-seconds,
// --default-unreachable-toleration-seconds) when the apiserver starts; here they are the
// run's (controlplane.Flags), hence a re-implementation of Admit.
type defaultTolerationSeconds struct {
	notReady, unreachable api.Toleration
}

func newDefaultTolerationSeconds(f controlplane.Flags) *defaultTolerationSeconds {
	notReady, unreachable := f.DefaultNotReadyTolerationSeconds, f.DefaultUnreachableTolerationSeconds
	return &defaultTolerationSeconds{
		notReady: api.Toleration{Key: corev1.TaintNodeNotReady, Operator: api.TolerationOpExists,
			Effect: api.TaintEffectNoExecute, TolerationSeconds: &notReady},
		unreachable: api.Toleration{Key: corev1.TaintNodeUnreachable, Operator: api.TolerationOpExists,
			Effect: api.TaintEffectNoExecute, TolerationSeconds: &unreachable},
	}
}

// admit is Plugin.Admit, for creates and updates of pods proper (not their subresources). A
// toleration with an empty key (or effect) tolerates every taint (or effect) and counts.
func (p *defaultTolerationSeconds) admit(_ context.Context, attrs admission.Attributes) error {
	if p == nil || attrs.GetResource().GroupResource() != api.Resource("pods") || attrs.GetSubresource() != "" {
		return nil
	}
	if op := attrs.GetOperation(); op != admission.Create && op != admission.Update {
		return nil
	}
	pod, ok := attrs.GetObject().(*api.Pod)
	if !ok {
		return apierrors.NewBadRequest(fmt.Sprintf("expected *api.Pod but got %T", attrs.GetObject()))
	}
	notReady, unreachable := false, false
	for _, t := range pod.Spec.Tolerations {
		noExecute := t.Effect == api.TaintEffectNoExecute || t.Effect == ""
		if (t.Key == corev1.TaintNodeNotReady || t.Key == "") && noExecute {
			notReady = true
		}
		if (t.Key == corev1.TaintNodeUnreachable || t.Key == "") && noExecute {
			unreachable = true
		}
	}
	if !notReady {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, copyToleration(p.notReady))
	}
	if !unreachable {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, copyToleration(p.unreachable))
	}
	return nil
}

// copyToleration gives each pod its own tolerationSeconds: the real plugin shares one pointer
// between every pod, which is harmless there because the object is serialized at once.
func copyToleration(t api.Toleration) api.Toleration {
	s := *t.TolerationSeconds
	t.TolerationSeconds = &s
	return t
}
