package sim

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	frameworkplugins "k8s.io/kubernetes/pkg/scheduler/framework/plugins"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/dynamicresources"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
)

// FilterFramework builds a second framework of the named scheduler profile, reading the
// cluster from lister instead of the scheduler's own snapshot: what cluster-autoscaler does
// to ask "would the scheduler put this pod on that node?" of nodes that do not exist yet
// (simulator/framework/handle.go, NewHandle: the same plugins, a snapshot of its own). Only
// its PreFilter and Filter plugins are meant to run, and DynamicResources' Reserve (see
// FilterFrameworkResult). It shares the scheduler's informers and CSI manager, so it sees
// every stored object as the scheduler does, and its DRA manager, seen through dra.
//
// Its registry holds the out-of-tree plugins (Config.Plugins) too: a profile that enables
// one could not be built without them, and their Filters are part of the scheduler's answer.
// NewHandle passes only the in-tree registry, so a real cluster-autoscaler reading such a
// configuration must be built with the same plugins; kwoksim's always is. Each call builds
// them anew, through their factories, with this framework's handle.
func (s *Simulator) FilterFramework(schedulerName string, lister fwk.SharedLister, dra DRAView) (*FilterFrameworkResult, error) {
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
	out := &FilterFrameworkResult{}
	if factory, ok := registry[dynamicresources.Name]; ok {
		registry[dynamicresources.Name] = func(ctx context.Context, args runtime.Object, fh fwk.Handle) (fwk.Plugin, error) {
			p, err := factory(ctx, args, fh)
			if r, ok := p.(fwk.ReservePlugin); ok && err == nil {
				out.DRAReserve = r
			}
			return p, err
		}
	}
	manager := h.SharedDRAManager()
	if dra != nil && manager != nil {
		manager = dra(manager)
	}
	for i := range d.plainProfiles {
		p := d.plainProfiles[i].DeepCopy()
		if p.SchedulerName != schedulerName {
			continue
		}
		// A name of its own: plugins register informer indexers named after their profile
		// (DynamicResources' pod claim index), which the scheduler's profile already holds.
		p.SchedulerName += "/autoscaler-simulation"
		fw, err := frameworkruntime.NewFramework(s.ctx, registry, p,
			frameworkruntime.WithClientSet(h.ClientSet()),
			frameworkruntime.WithInformerFactory(h.SharedInformerFactory()),
			frameworkruntime.WithSharedDRAManager(manager),
			frameworkruntime.WithSharedCSIManager(h.SharedCSIManager()),
			frameworkruntime.WithSnapshotSharedLister(lister),
			frameworkruntime.WithEventRecorder(h.EventRecorder()),
			frameworkruntime.WithParallelism(1),
			frameworkruntime.WithLogger(QuietLogger(d.logger)))
		if err != nil {
			return nil, err
		}
		out.Framework = fw
		return out, nil
	}
	return nil, fmt.Errorf("no scheduler profile %q", schedulerName)
}

// DRAView gives a FilterFramework the devices and claims it sees, from the scheduler's own
// (real): cluster-autoscaler's DRA snapshot (simulator/dynamicresources/snapshot), in which
// template nodes have the ResourceSlices their drivers would publish and the claims of pods
// placed in the simulation are allocated. nil keeps the scheduler's.
type DRAView func(real fwk.SharedDRAManager) fwk.SharedDRAManager

// FilterFrameworkResult is a FilterFramework and, when its profile enables DynamicResources,
// that plugin's Reserve, which records the allocation Filter found for a node through the
// framework's DRAView (SignalClaimPendingAllocation): what cluster-autoscaler's
// SchedulerPluginRunner.RunReserveOnNode runs after a pod is placed. Only that plugin's
// Reserve is exposed: the others (VolumeBinding's assumed volumes) would keep state in the
// framework's plugins from one simulation to the next.
type FilterFrameworkResult struct {
	Framework  framework.Framework
	DRAReserve fwk.ReservePlugin
}
