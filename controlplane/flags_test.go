package controlplane

import (
	"strings"
	"testing"
	"time"
)

// The defaults are the real components' (v1.37.2): pkg/controller/nodelifecycle/config/v1alpha1
// and podgc's defaults.go, cmd/kube-controller-manager/app/options/nodelifecyclecontroller.go,
// plugin/pkg/admission/defaulttolerationseconds. They are restated here, from those files, so
// that a change to Defaults is a decision and not an accident.
func TestDefaultsAreTheRealOnes(t *testing.T) {
	want := map[string]string{
		"node-monitor-period":                    "5s",
		"node-monitor-grace-period":              "50s",
		"node-startup-grace-period":              "1m0s",
		"node-eviction-rate":                     "0.1",
		"secondary-node-eviction-rate":           "0.01",
		"unhealthy-zone-threshold":               "0.55",
		"large-cluster-size-threshold":           "50",
		"terminated-pod-gc-threshold":            "12500",
		"default-not-ready-toleration-seconds":   "300",
		"default-unreachable-toleration-seconds": "300",
	}
	all := All()
	if len(all) != len(want) {
		t.Fatalf("%d flags, want %d", len(all), len(want))
	}
	for _, f := range all {
		if got := f.Default(); got != want[f.Name] {
			t.Errorf("--%s defaults to %s, want %s", f.Name, got, want[f.Name])
		}
	}
	d := Defaults()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestSet(t *testing.T) {
	f := Defaults()
	for _, arg := range []string{"node-eviction-rate=0.5", "--node-monitor-grace-period=40s", "terminated-pod-gc-threshold=10"} {
		if err := f.Set(KubeControllerManager, arg); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
	}
	if err := f.Set(KubeAPIServer, "default-not-ready-toleration-seconds=60"); err != nil {
		t.Fatal(err)
	}
	if f.NodeEvictionRate != 0.5 || f.NodeMonitorGracePeriod != 40*time.Second || f.TerminatedPodGCThreshold != 10 ||
		f.DefaultNotReadyTolerationSeconds != 60 || f.DefaultUnreachableTolerationSeconds != 300 {
		t.Errorf("after Set: %+v", f)
	}
	for _, c := range []struct {
		comp Component
		arg  string
		want string
	}{
		{KubeControllerManager, "node-eviction-rate", "expected NAME=VALUE"},
		{KubeControllerManager, "node-eviction-rate=fast", "expected a non-negative number"},
		{KubeControllerManager, "node-eviction-rate=-1", "expected a non-negative number"},
		{KubeControllerManager, "node-monitor-period=0s", "expected a positive duration"},
		{KubeControllerManager, "large-cluster-size-threshold=1e9999", "expected an integer"},
		{KubeControllerManager, "pod-eviction-timeout=5m", `"pod-eviction-timeout" is not modelled; expected one of`},
		{KubeControllerManager, "default-not-ready-toleration-seconds=1", "kube-controller-manager flag"},
		{KubeAPIServer, "node-eviction-rate=1", "kube-apiserver flag"},
	} {
		g := Defaults()
		err := g.Set(c.comp, c.arg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Set(%s, %q) = %v, want an error containing %q", c.comp, c.arg, err, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	f := Defaults()
	f.UnhealthyZoneThreshold = 1.5
	if err := f.Validate(); err == nil {
		t.Error("a threshold of 1.5 passed validation")
	}
}
