package sim

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/names"
)

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func profileByName(t *testing.T, cfg *schedulerapi.KubeSchedulerConfiguration, name string) *schedulerapi.KubeSchedulerProfile {
	t.Helper()
	for i := range cfg.Profiles {
		if cfg.Profiles[i].SchedulerName == name {
			return &cfg.Profiles[i]
		}
	}
	t.Fatalf("no profile %q in %v", name, profileNames(cfg))
	return nil
}

// The file is decoded and defaulted by the scheduler's own scheme: a profile that only sets
// NodeResourcesFit's scoring strategy gets every default plugin, and the other profile the
// default arguments.
func TestLoadSchedulerConfigDefaultsLikeKubeScheduler(t *testing.T) {
	cfg, err := LoadSchedulerConfig("../testdata/scheduler-config/two-profiles.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := profileNames(cfg); !slices.Equal(got, []string{"bin-packing", "default-scheduler"}) {
		t.Errorf("profiles %v", got)
	}
	if cfg.PodInitialBackoffSeconds != 1 || cfg.PodMaxBackoffSeconds != 10 || cfg.Parallelism != 16 {
		t.Errorf("defaults: backoff %d..%d s, parallelism %d", cfg.PodInitialBackoffSeconds, cfg.PodMaxBackoffSeconds, cfg.Parallelism)
	}
	strategy := func(p *schedulerapi.KubeSchedulerProfile) schedulerapi.ScoringStrategyType {
		for _, c := range p.PluginConfig {
			if c.Name == names.NodeResourcesFit {
				return c.Args.(*schedulerapi.NodeResourcesFitArgs).ScoringStrategy.Type
			}
		}
		return ""
	}
	packing, spread := profileByName(t, cfg, "bin-packing"), profileByName(t, cfg, "default-scheduler")
	if got := strategy(packing); got != schedulerapi.MostAllocated {
		t.Errorf("bin-packing scoring strategy %q", got)
	}
	if got := strategy(spread); got != schedulerapi.LeastAllocated {
		t.Errorf("default-scheduler scoring strategy %q, want the default", got)
	}
	for _, p := range []*schedulerapi.KubeSchedulerProfile{packing, spread} {
		if !slices.ContainsFunc(p.Plugins.MultiPoint.Enabled, func(pl schedulerapi.Plugin) bool { return pl.Name == names.DefaultPreemption }) {
			t.Errorf("%s: the default plugins were not merged in: %v", p.SchedulerName, p.Plugins.MultiPoint.Enabled)
		}
	}
}

// Every profile gets the seeded preemption in DefaultPreemption's place, with its own
// arguments, and a profile that disabled preemption keeps it disabled.
func TestSeededPreemptionInEveryProfile(t *testing.T) {
	cfg, err := LoadSchedulerConfig(writeConfig(t, `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: DefaultPreemption
    args:
      minCandidateNodesAbsolute: 7
- schedulerName: no-preemption
  plugins:
    postFilter:
      disabled:
      - name: DefaultPreemption
`))
	if err != nil {
		t.Fatal(err)
	}
	before := cfg.DeepCopy()
	var mentions func(v reflect.Value, path string) []string
	mentions = func(v reflect.Value, path string) []string {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return nil
			}
			return mentions(v.Elem(), path)
		case reflect.Struct:
			var out []string
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					out = append(out, mentions(v.Field(i), path+"."+v.Type().Field(i).Name)...)
				}
			}
			return out
		case reflect.Slice:
			var out []string
			for i := range v.Len() {
				out = append(out, mentions(v.Index(i), path+"[]")...)
			}
			return out
		case reflect.String:
			if v.String() == names.DefaultPreemption {
				return []string{path}
			}
		}
		return nil
	}
	for i := range cfg.Profiles {
		p := cfg.Profiles[i].DeepCopy()
		useSeededPreemption(p)
		if left := mentions(reflect.ValueOf(p), p.SchedulerName); len(left) > 0 {
			t.Errorf("%s still names DefaultPreemption at %v", p.SchedulerName, left)
		}
		if !slices.ContainsFunc(p.Plugins.MultiPoint.Enabled, func(pl schedulerapi.Plugin) bool { return pl.Name == seededPreemptionName }) {
			t.Errorf("%s: seeded preemption not enabled at MultiPoint: %v", p.SchedulerName, p.Plugins.MultiPoint.Enabled)
		}
		var args *schedulerapi.DefaultPreemptionArgs
		for _, c := range p.PluginConfig {
			if c.Name == seededPreemptionName {
				args = c.Args.(*schedulerapi.DefaultPreemptionArgs)
			}
		}
		switch p.SchedulerName {
		case "default-scheduler":
			if args == nil || args.MinCandidateNodesAbsolute != 7 {
				t.Errorf("default-scheduler: seeded preemption arguments %+v, want the profile's own (minCandidateNodesAbsolute 7)", args)
			}
		case "no-preemption":
			if !slices.ContainsFunc(p.Plugins.PostFilter.Disabled, func(pl schedulerapi.Plugin) bool { return pl.Name == seededPreemptionName }) {
				t.Errorf("no-preemption: PostFilter.Disabled = %v, want the seeded plugin disabled as DefaultPreemption was", p.Plugins.PostFilter.Disabled)
			}
		}
	}
	// The caller's configuration is not changed by a run: the driver works on a copy.
	newSim(t, Config{SchedulerConfig: cfg})
	if !reflect.DeepEqual(cfg, before) {
		t.Error("building a simulator changed the configuration it was given")
	}
}

// A pod whose schedulerName no profile has is never tried; the report says why.
func TestPodOfAnUnknownSchedulerIsExplained(t *testing.T) {
	s := newSim(t, Config{})
	orphan := pod("orphan")
	orphan.Spec.SchedulerName = "bin-packing"
	mustCreate(t, s, node("n1"), pod("ok"), orphan)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	o, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	attempts := map[string]int{}
	for _, p := range o.Pods {
		reasons[p.Pod.Name], attempts[p.Pod.Name] = p.Reason, p.Attempts
	}
	want := `no scheduler profile is named "bin-packing" (the profiles are default-scheduler): kube-scheduler leaves the pod to another scheduler, so it was never tried`
	if reasons["orphan"] != want || attempts["orphan"] != 0 {
		t.Errorf("orphan: reason %q after %d attempts, want %q and none", reasons["orphan"], attempts["orphan"], want)
	}
	if reasons["ok"] != "" || getPod(t, s, "ok").Spec.NodeName != "n1" {
		t.Errorf("ok: reason %q, node %q", reasons["ok"], getPod(t, s, "ok").Spec.NodeName)
	}
}

// Configurations the scheduler refuses fail with a *SchedulerConfigError naming the file and
// carrying the scheduler's own message.
func TestLoadSchedulerConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"not YAML", "profiles: [", "yaml"},
		{"unknown field", "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofile: []\n", `strict decoding error: unknown field "profile"`},
		{"another kind", "apiVersion: v1\nkind: Pod\n", "expected a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1)"},
		{"validation", "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npodInitialBackoffSeconds: 20\npodMaxBackoffSeconds: 10\n",
			"podMaxBackoffSeconds: Invalid value: 10: must be greater than or equal to PodInitialBackoffSeconds"},
		{"plugin that does not exist", "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- plugins:\n    filter:\n      enabled:\n      - name: NoSuchPlugin\n",
			`FilterPlugin "NoSuchPlugin" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.yaml)
			_, err := LoadSchedulerConfig(path)
			var ce *SchedulerConfigError
			if !errors.As(err, &ce) || ce.File != path {
				t.Fatalf("error %v (%T), want a *SchedulerConfigError naming %s", err, err, path)
			}
			if !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q after the file name", err, tc.want)
			}
		})
	}
}

// FuzzSchedulerConfig holds --scheduler-config to the contract with user files: no panic, and
// every error a *SchedulerConfigError whose message starts with the file; an accepted
// configuration has uniquely named profiles. `make fuzz` runs it for a set time; plain
// `go test` runs the seeds: the repository's configurations, good and bad.
func FuzzSchedulerConfig(f *testing.F) {
	for _, pattern := range []string{"../testdata/scheduler-config/*.yaml", "../testdata/bad/scheduler-config/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			f.Fatalf("no seeds match %s (%v)", pattern, err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	// The config scheme logs its defaulting notes to klog's global logger; as the command
	// keeps them off stderr, so does the fuzzer, whose output would otherwise fill with them.
	klog.SetLogger(QuietLogger(textlogger.NewLogger(textlogger.NewConfig())))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadSchedulerConfig(path)
		if err != nil {
			var ce *SchedulerConfigError
			if !errors.As(err, &ce) || ce.File != path || !strings.HasPrefix(err.Error(), path+": ") {
				t.Fatalf("error %T does not name the file: %v", err, err)
			}
			return
		}
		names := profileNames(cfg)
		if len(names) == 0 || names[0] == "" || len(slices.Compact(slices.Clone(names))) != len(names) {
			t.Fatalf("accepted a configuration with profiles %q", names)
		}
	})
}
