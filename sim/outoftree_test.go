package sim

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	fwk "k8s.io/kube-scheduler/framework"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
)

// onlyHost is an out-of-tree Filter plugin for the tests: it keeps the node its args name.
type onlyHost struct{ host string }

type onlyHostArgs struct {
	Host string `json:"host"`
}

func (*onlyHost) Name() string { return "TestOnlyHost" }

func (p *onlyHost) Filter(_ context.Context, _ fwk.CycleState, _ *corev1.Pod, n fwk.NodeInfo) *fwk.Status {
	if n.Node().Name != p.host {
		return fwk.NewStatus(fwk.Unschedulable, "not "+p.host)
	}
	return nil
}

// onlyHostRegistry registers onlyHost, recording the args object each build was given.
func onlyHostRegistry(given *[]runtime.Object) frameworkruntime.Registry {
	return frameworkruntime.Registry{"TestOnlyHost": func(_ context.Context, obj runtime.Object, _ fwk.Handle) (fwk.Plugin, error) {
		*given = append(*given, obj)
		var args onlyHostArgs
		if err := frameworkruntime.DecodeInto(obj, &args); err != nil {
			return nil, err
		}
		if args.Host == "" {
			return nil, errors.New("TestOnlyHost args: host is required")
		}
		return &onlyHost{host: args.Host}, nil
	}}
}

const onlyHostConfig = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  plugins:
    filter:
      enabled:
      - name: TestOnlyHost
  pluginConfig:
  - name: TestOnlyHost
    args:
      host: n2
`

// A configuration enabling an out-of-tree plugin parses when the plugin is registered; its
// args reach the factory undecoded (*runtime.Unknown), as kube-scheduler hands them over,
// and decode with DecodeInto; the run then places the pod as the plugin says.
func TestSchedConfigOutOfTreePlugin(t *testing.T) {
	var given []runtime.Object
	plugins := onlyHostRegistry(&given)
	cfg, err := ParseSchedulerConfig("config.yaml", []byte(onlyHostConfig), plugins)
	if err != nil {
		t.Fatal(err)
	}
	if len(given) != 1 {
		t.Fatalf("the factory was called %d times while the file was checked, want once", len(given))
	}
	if u, ok := given[0].(*runtime.Unknown); !ok || !strings.Contains(string(u.Raw), `"host":"n2"`) {
		t.Errorf("args %#v, want a *runtime.Unknown holding the file's args", given[0])
	}
	s := newSim(t, Config{SchedulerConfig: cfg, Plugins: plugins})
	// n1 is first in the scheduler's walk and equal to n2 in every default score.
	mustCreate(t, s, node("n1"), node("n2"), pod("p"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if got := getPod(t, s, "p").Spec.NodeName; got != "n2" {
		t.Errorf("pod on %q, want n2, the node the plugin's args name", got)
	}

	// Without the plugin the file is bad input, and the message says why the name is unknown.
	_, err = ParseSchedulerConfig("config.yaml", []byte(onlyHostConfig), nil)
	var ce *SchedulerConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `FilterPlugin "TestOnlyHost" does not exist`) ||
		!strings.Contains(err.Error(), "this kwoksim has only the in-tree scheduler plugins") {
		t.Errorf("without the plugin: %v (%T), want a *SchedulerConfigError saying the build lacks it", err, err)
	}
	// Args the plugin refuses are the file's fault, without a word about builds.
	_, err = ParseSchedulerConfig("config.yaml", []byte(strings.Replace(onlyHostConfig, "host: n2", "host: ''", 1)), plugins)
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "TestOnlyHost args: host is required") || strings.Contains(err.Error(), "this kwoksim has") {
		t.Errorf("refused args: %v (%T)", err, err)
	}
}

// CheckPlugins names every out-of-tree plugin that would shadow another, sorted; New and
// ParseSchedulerConfig refuse such a registry with its error, which is not bad input.
func TestConfigCheckPlugins(t *testing.T) {
	var given []runtime.Object
	ok := onlyHostRegistry(&given)
	factory := ok["TestOnlyHost"]
	if err := CheckPlugins(ok); err != nil {
		t.Errorf("CheckPlugins(TestOnlyHost) = %v", err)
	}
	bad := frameworkruntime.Registry{"TestOnlyHost": factory, "NodeResourcesFit": factory, recorderPluginName: factory, "": factory, "NoFactory": nil}
	want := `an out-of-tree scheduler plugin has an empty name
out-of-tree scheduler plugin "KwoksimRecorder" has the name of a plugin of kwoksim's own; register it under another name
out-of-tree scheduler plugin "NoFactory" has no factory
out-of-tree scheduler plugin "NodeResourcesFit" has the name of an in-tree plugin; register it under another name`
	err := CheckPlugins(bad)
	if err == nil || err.Error() != want {
		t.Errorf("CheckPlugins = %v\nwant %s", err, want)
	}
	if _, err := New(context.Background(), Config{Plugins: bad}); err == nil || err.Error() != want {
		t.Errorf("New: %v", err)
	}
	var badInput interface{ BadInput() }
	if _, err := ParseSchedulerConfig("config.yaml", []byte(onlyHostConfig), bad); err == nil || errors.As(err, &badInput) {
		t.Errorf("ParseSchedulerConfig: %v (%T), want the registry's error, not bad input", err, err)
	}
}
