package sim

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"
	frameworkplugins "k8s.io/kubernetes/pkg/scheduler/framework/plugins"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
)

// Out-of-tree scheduler plugins (Config.Plugins) are registered as kube-scheduler registers
// them: cmd/kube-scheduler/app/server.go (Setup) gathers the WithPlugin options into one
// registry and hands it to scheduler.New with WithFrameworkOutOfTreeRegistry, which merges it
// into the in-tree registry (pkg/scheduler/scheduler.go, Registry.Merge). kwoksim merges it
// with its own two plugins first, and into the second frameworks the node autoscaler builds
// (FilterFramework), so that a profile enabling one can be built there too.

// CheckPlugins refuses a registry of out-of-tree plugins that cannot join the in-tree ones
// and kwoksim's own: a name an in-tree plugin has (kube-scheduler's merge refuses it too), a
// name of kwoksim's own plugins, an empty name, a nil factory. Registry.Merge stops at the
// first clash it finds in map order; this names every one, sorted, so that the message is the
// same on every run. The fault is the build's, not its input's: the error is not bad input.
func CheckPlugins(plugins frameworkruntime.Registry) error {
	if len(plugins) == 0 {
		return nil
	}
	inTree := frameworkplugins.NewInTreeRegistry()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(plugins)) {
		switch {
		case name == "":
			errs = append(errs, errors.New("an out-of-tree scheduler plugin has an empty name"))
		case isOwnPlugin(name):
			errs = append(errs, fmt.Errorf("out-of-tree scheduler plugin %q has the name of a plugin of kwoksim's own; register it under another name", name))
		case inTree[name] != nil:
			errs = append(errs, fmt.Errorf("out-of-tree scheduler plugin %q has the name of an in-tree plugin; register it under another name", name))
		case plugins[name] == nil:
			errs = append(errs, fmt.Errorf("out-of-tree scheduler plugin %q has no factory", name))
		}
	}
	return errors.Join(errs...)
}

// isOwnPlugin reports whether name is one of the plugins the simulator adds to profiles.
func isOwnPlugin(name string) bool {
	return name == recorderPluginName || name == seededPreemptionName || name == draFilterCacheName
}

// PluginNames are the names of a registry's plugins, sorted (for `kwoksim version` and
// messages).
func PluginNames(plugins frameworkruntime.Registry) []string {
	return slices.Sorted(maps.Keys(plugins))
}

// withPluginHint adds to the scheduler's error about a configuration what the user of a
// plugin needs when the configuration enables a plugin this build does not have: the
// framework says only `ScorePlugin "NodeCost" does not exist`, which reads as a typo when the
// plugin is real but out of tree. Whether one is unknown is read from the configuration, not
// from the error's text.
func withPluginHint(err error, cfg *schedulerapi.KubeSchedulerConfiguration, plugins frameworkruntime.Registry) error {
	inTree := frameworkplugins.NewInTreeRegistry()
	known := func(name string) bool { return inTree[name] != nil || plugins[name] != nil || isOwnPlugin(name) }
	unknown := false
	for _, p := range cfg.Profiles {
		if p.Plugins == nil {
			continue
		}
		for _, set := range pluginSets(p.Plugins) {
			for _, pl := range set.Enabled {
				unknown = unknown || !known(pl.Name)
			}
		}
	}
	if !unknown {
		return err
	}
	has, other := "only the in-tree scheduler plugins", "an out-of-tree plugin"
	if len(plugins) > 0 {
		has, other = "the in-tree scheduler plugins and the out-of-tree "+strings.Join(PluginNames(plugins), ", "), "another out-of-tree plugin"
	}
	return fmt.Errorf("%w (this kwoksim has %s; %s needs a kwoksim built with it: see \"Out-of-tree scheduler plugins\" in the README)", err, has, other)
}
