package sim

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	configv1 "k8s.io/kube-scheduler/config/v1"
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"
	schedulerscheme "k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
)

// SchedulerConfigError is a scheduler configuration kube-scheduler itself would refuse: a file
// that does not decode (bad YAML, an unknown field), fails the scheduler's validation, or names
// something the scheduler cannot build (an unknown plugin). It is bad input.
type SchedulerConfigError struct {
	// File is the configuration file; empty for a configuration handed to New directly.
	File string
	Err  error
}

func (e *SchedulerConfigError) Error() string {
	if e.File == "" {
		return "scheduler configuration: " + e.Err.Error()
	}
	return e.File + ": " + e.Err.Error()
}

// BadInput marks the error as bad input (kwoksim exits 2).
func (*SchedulerConfigError) BadInput() {}

func (e *SchedulerConfigError) Unwrap() error { return e.Err }

// LoadSchedulerConfig reads a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) the
// way kube-scheduler's --config does: decoded strictly and defaulted by the scheduler's own
// config scheme, then validated by its own ValidateKubeSchedulerConfiguration (in New). It
// builds an empty simulator with it, as the run will, so that what only the scheduler
// framework checks (a plugin that does not exist, a plugin enabled twice) also fails here,
// naming the file, before any input is loaded. Every error is a *SchedulerConfigError.
// Only the in-tree plugins are known; ParseSchedulerConfig takes out-of-tree ones.
func LoadSchedulerConfig(path string) (*schedulerapi.KubeSchedulerConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the message
		}
		return nil, &SchedulerConfigError{File: path, Err: err}
	}
	return ParseSchedulerConfig(path, data, nil)
}

// ParseSchedulerConfig is LoadSchedulerConfig for a configuration already read (the command
// reads its inputs through package workloads/input); file names it in errors. plugins are
// the out-of-tree plugins the run will have (Config.Plugins), which the configuration may
// enable; the arguments it gives one stay a *runtime.Unknown, as kube-scheduler keeps them
// (k8s.io/kube-scheduler/config/v1, PluginConfig.decodeNestedObjects), for the plugin's
// factory to decode (frameworkruntime.DecodeInto), as it does when the empty simulator is
// built. A registry CheckPlugins refuses is the build's fault, not the file's: that error is
// returned as it is.
func ParseSchedulerConfig(file string, data []byte, plugins frameworkruntime.Registry) (*schedulerapi.KubeSchedulerConfiguration, error) {
	if err := CheckPlugins(plugins); err != nil {
		return nil, err
	}
	fail := func(err error) error { return &SchedulerConfigError{File: file, Err: err} }
	// The UniversalDecoder converts to the internal type and applies the v1 defaults: the
	// default plugins merged into every profile, default plugin arguments, and so on.
	obj, gvk, err := schedulerscheme.Codecs.UniversalDecoder().Decode(data, nil, nil)
	if runtime.IsNotRegisteredError(err) || runtime.IsMissingKind(err) || runtime.IsMissingVersion(err) {
		// Another kind of file, or an older version: say what was expected.
		return nil, fail(fmt.Errorf("expected a KubeSchedulerConfiguration (%s): %w", configv1.SchemeGroupVersion, err))
	}
	if err != nil {
		return nil, fail(err)
	}
	cfg, ok := obj.(*schedulerapi.KubeSchedulerConfiguration)
	if !ok {
		return nil, fail(fmt.Errorf("expected a KubeSchedulerConfiguration (%s), got %s", configv1.SchemeGroupVersion, gvk))
	}
	// kube-scheduler records the version it decoded from; validation reads it (plugins removed
	// in a version).
	cfg.TypeMeta.APIVersion = gvk.GroupVersion().String()
	s, err := New(context.Background(), Config{SchedulerConfig: cfg, Plugins: plugins})
	if err != nil {
		var ce *SchedulerConfigError
		if errors.As(err, &ce) {
			err = ce.Err
		}
		return nil, fail(err)
	}
	s.Close()
	return cfg, nil
}

// checkSimulable rejects what a simulation cannot honour without changing the outcome.
func checkSimulable(cfg *schedulerapi.KubeSchedulerConfiguration) error {
	if len(cfg.Extenders) > 0 {
		return fmt.Errorf("extenders: %d extender(s) configured; kwoksim runs offline and cannot call an extender's webhook, so a run would place pods differently (remove the extenders)", len(cfg.Extenders))
	}
	return nil
}

// DefaultSchedulerConfig is the configuration kube-scheduler runs with when given none: the v1
// defaults of the scheduler's own config scheme, one profile named default-scheduler.
func DefaultSchedulerConfig() (*schedulerapi.KubeSchedulerConfiguration, error) {
	var versioned configv1.KubeSchedulerConfiguration
	schedulerscheme.Scheme.Default(&versioned)
	var cfg schedulerapi.KubeSchedulerConfiguration
	if err := schedulerscheme.Scheme.Convert(&versioned, &cfg, nil); err != nil {
		return nil, err
	}
	cfg.TypeMeta.APIVersion = configv1.SchemeGroupVersion.String()
	return &cfg, nil
}

// profileNames are the scheduler names of a configuration's profiles, sorted.
func profileNames(cfg *schedulerapi.KubeSchedulerConfiguration) []string {
	names := make([]string, 0, len(cfg.Profiles))
	for _, p := range cfg.Profiles {
		names = append(names, p.SchedulerName)
	}
	sort.Strings(names)
	return names
}

// noProfileReason is the report's unschedulableReason for a pod whose spec.schedulerName no
// profile has: kube-scheduler leaves such a pod to another scheduler, and in a simulation
// there is none, so it stays Pending without a single attempt.
func noProfileReason(schedulerName string, profiles []string) string {
	return fmt.Sprintf("no scheduler profile is named %q (the profiles are %s): kube-scheduler leaves the pod to another scheduler, so it was never tried",
		schedulerName, strings.Join(profiles, ", "))
}
