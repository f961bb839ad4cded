package sim

import (
	"sort"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/kubernetes/pkg/scheduler"
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/names"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/volumebinding"
)

// Why VolumeBinding's wait is replaced: when a pod's claim is not bound yet and the scheduler
// can bind it (a matching PV, or a class with a provisioner and WaitForFirstConsumer),
// VolumeBinding's PreBind writes the PV's claimRef or the claim's selected-node annotation,
// then polls every second of WALL time, up to bindTimeoutSeconds (600 by default), for the PV
// controller or the provisioner to finish (volumebinding/binder.go BindPodVolumes).
//
// The simulator keeps the real plugin, under its own name, and changes two things:
//   - noVolumeBindWait builds it with bindTimeoutSeconds 0, so that the real BindPodVolumes
//     makes its API writes and returns "binding volumes: context deadline exceeded" at once,
//     without any wall time;
//   - useParkingBinders then swaps the plugin's exported Binder for a parkingBinder, which
//     replaces that one error by the wait on virtual time (volumewait.go), with the profile's
//     configured bindTimeoutSeconds as the virtual timeout.
//
// The plugin is found through its framework's EnqueueExtensions (exported; every
// instantiated PreFilter plugin is listed there), not under another registry name: the
// framework requires a score plugin's registry name to be its Name(), and a renamed
// VolumeBinding would change the name statuses, queueing hints and reports carry. Should a
// profile's plugin not be found, it keeps a timeout of 0: its pods are retried on the error
// backoff, never frozen on the wall clock.

// noVolumeBindWait sets the VolumeBinding plugin's bindTimeoutSeconds to 0 in a profile, and
// returns the configured value: the virtual timeout. A profile without VolumeBinding
// arguments returns 0.
func noVolumeBindWait(p *schedulerapi.KubeSchedulerProfile) time.Duration {
	var timeout time.Duration
	for i := range p.PluginConfig {
		if p.PluginConfig[i].Name != names.VolumeBinding {
			continue
		}
		if args, ok := p.PluginConfig[i].Args.(*schedulerapi.VolumeBindingArgs); ok {
			timeout = time.Duration(args.BindTimeoutSeconds) * time.Second
			args = args.DeepCopy()
			args.BindTimeoutSeconds = 0
			p.PluginConfig[i].Args = args
		}
	}
	return timeout
}

// useParkingBinders gives every profile's VolumeBinding plugin a parkingBinder with the
// profile's timeout (by scheduler name). A profile that disabled VolumeBinding has none.
func (d *driver) useParkingBinders(sched *scheduler.Scheduler, factory informers.SharedInformerFactory, timeouts map[string]time.Duration) error {
	names := make([]string, 0, len(sched.Profiles))
	for name := range sched.Profiles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, ext := range sched.Profiles[name].EnqueueExtensions() {
			vb, ok := ext.(*volumebinding.VolumeBinding)
			if !ok {
				continue
			}
			b, err := newParkingBinder(d, vb.Binder, factory, timeouts[name])
			if err != nil {
				return err
			}
			vb.Binder = b
		}
	}
	return nil
}
