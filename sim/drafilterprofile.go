package sim

import (
	"fmt"
	"maps"
	"slices"

	"k8s.io/kubernetes/pkg/scheduler"
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/dynamicresources"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/names"
)

// useDRAFilterCache puts the cache in DynamicResources' place at the Filter extension point
// of a defaulted profile, just before it in MultiPoint (so its PreFilter runs just before the
// plugin's, its Filter where the plugin's ran, its Reserve just before the plugin's). A
// profile that names DynamicResources anywhere but MultiPoint's enabled list, or disables
// every plugin of an extension point, is left as it is: the plugin then filters alone.
func useDRAFilterCache(p *schedulerapi.KubeSchedulerProfile) bool {
	if p.Plugins == nil {
		return false
	}
	at := -1
	for i, pl := range p.Plugins.MultiPoint.Enabled {
		if pl.Name == names.DynamicResources {
			at = i
		}
	}
	if at < 0 {
		return false
	}
	for _, set := range pluginSets(p.Plugins) {
		for _, pl := range set.Disabled {
			if pl.Name == names.DynamicResources || pl.Name == "*" {
				return false
			}
		}
		if set == &p.Plugins.MultiPoint {
			continue
		}
		for _, pl := range set.Enabled {
			if pl.Name == names.DynamicResources {
				return false
			}
		}
	}
	p.Plugins.MultiPoint.Enabled = slices.Insert(p.Plugins.MultiPoint.Enabled, at, schedulerapi.Plugin{Name: draFilterCacheName})
	p.Plugins.Filter.Disabled = append(p.Plugins.Filter.Disabled, schedulerapi.Plugin{Name: names.DynamicResources})
	return true
}

// wireDRAFilterCaches gives each profile's cache the profile's DynamicResources plugin.
func wireDRAFilterCaches(sched *scheduler.Scheduler) ([]*draFilterCache, error) {
	var caches []*draFilterCache
	for _, name := range slices.Sorted(maps.Keys(sched.Profiles)) {
		var cache *draFilterCache
		var plugin *dynamicresources.DynamicResources
		for _, ext := range sched.Profiles[name].EnqueueExtensions() {
			switch p := ext.(type) {
			case *draFilterCache:
				cache = p
			case *dynamicresources.DynamicResources:
				plugin = p
			}
		}
		if cache == nil {
			continue
		}
		if plugin == nil {
			return nil, fmt.Errorf("scheduler profile %q has the DynamicResources filter cache but not the plugin", name)
		}
		cache.inner = plugin
		caches = append(caches, cache)
	}
	return caches, nil
}
