package sim

import (
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/names"
)

// noVolumeBindWait sets the VolumeBinding plugin's bindTimeoutSeconds to 0 in a profile.
//
// Why: when a pod's claim is not bound yet and the scheduler can bind it (a matching PV, or a
// class with a provisioner and WaitForFirstConsumer), VolumeBinding's PreBind writes the
// binding or the selected node, then polls every second of wall time, up to bindTimeoutSeconds
// (600 by default), for the PV controller or the provisioner to finish
// (volumebinding/binder.go BindPodVolumes). kwoksim has neither yet, and the driver waits for
// every binding cycle to end: each such pod would freeze the run for ten minutes of real time
// per attempt. With 0 the wait fails at once and the pod is retried on the error backoff,
// staying pending with the scheduler's message, which is what a cluster without a PV
// controller or provisioner would show, minus the ten minutes. Pods whose claims are all
// bound, and claims the scheduler cannot bind (Filter rejects them), are not affected.
func noVolumeBindWait(p *schedulerapi.KubeSchedulerProfile) {
	for i := range p.PluginConfig {
		if p.PluginConfig[i].Name != names.VolumeBinding {
			continue
		}
		if args, ok := p.PluginConfig[i].Args.(*schedulerapi.VolumeBindingArgs); ok {
			args = args.DeepCopy()
			args.BindTimeoutSeconds = 0
			p.PluginConfig[i].Args = args
		}
	}
}
