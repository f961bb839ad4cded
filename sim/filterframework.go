package sim

import (
	"fmt"

	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	frameworkplugins "k8s.io/kubernetes/pkg/scheduler/framework/plugins"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
)

// FilterFramework builds a second framework of the named scheduler profile, reading the
// cluster from lister instead of the scheduler's own snapshot: what cluster-autoscaler does
// to ask "would the scheduler put this pod on that node?" of nodes that do not exist yet
// (simulator/framework/handle.go, NewHandle: the same plugins, a snapshot of its own). Only
// its PreFilter and Filter plugins are meant to run. It shares the scheduler's informers and
// its DRA and CSI managers, so it sees every stored object as the scheduler does.
//
// Its registry holds the out-of-tree plugins (Config.Plugins) too: a profile that enables
// one could not be built without them, and their Filters are part of the scheduler's answer.
// NewHandle passes only the in-tree registry, so a real cluster-autoscaler reading such a
// configuration must be built with the same plugins; kwoksim's always is. Each call builds
// them anew, through their factories, with this framework's handle.
func (s *Simulator) FilterFramework(schedulerName string, lister fwk.SharedLister) (framework.Framework, error) {
	d := s.driver
	h, ok := d.sched.Profiles[schedulerName]
	if !ok {
		return nil, fmt.Errorf("no scheduler profile %q", schedulerName)
	}
	registry := frameworkplugins.NewInTreeRegistry()
	// Config.validate has refused out-of-tree names the in-tree registry has (CheckPlugins).
	if err := registry.Merge(d.outOfTree); err != nil {
		return nil, err
	}
	for i := range d.plainProfiles {
		p := d.plainProfiles[i].DeepCopy()
		if p.SchedulerName != schedulerName {
			continue
		}
		// A name of its own: plugins register informer indexers named after their profile
		// (DynamicResources' pod claim index), which the scheduler's profile already holds.
		p.SchedulerName += "/autoscaler-simulation"
		return frameworkruntime.NewFramework(s.ctx, registry, p,
			frameworkruntime.WithClientSet(h.ClientSet()),
			frameworkruntime.WithInformerFactory(h.SharedInformerFactory()),
			frameworkruntime.WithSharedDRAManager(h.SharedDRAManager()),
			frameworkruntime.WithSharedCSIManager(h.SharedCSIManager()),
			frameworkruntime.WithSnapshotSharedLister(lister),
			frameworkruntime.WithEventRecorder(h.EventRecorder()),
			frameworkruntime.WithParallelism(1),
			frameworkruntime.WithLogger(QuietLogger(d.logger)))
	}
	return nil, fmt.Errorf("no scheduler profile %q", schedulerName)
}
