package controlplane

import (
	"strings"
	"testing"
	"time"
)

// The defaults are the real components' (v1.37.2): pkg/controller/nodelifecycle/config/v1alpha1
// and podgc's defaults.go, cmd/kube-controller-manager/app/options/nodelifecyclecontroller.go,
// plugin/pkg/admission/defaulttolerationseconds; --kube-api-qps 20 and --kube-api-burst 30 from
// pkg/controller/apis/config/v1alpha1/defaults.go (SetDefaults_KubeControllerManagerConfiguration:
// "if obj.Generic.ClientConnection.QPS == 0.0 { … = 20.0 }", Burst 30); the concurrent syncs
// from pkg/controller/replicaset/config/v1alpha1 (ConcurrentRSSyncs = 5) and
// pkg/controller/replication/config/v1alpha1 (ConcurrentRCSyncs = 5), job (ConcurrentJobSyncs =
// 5) and daemon (ConcurrentDaemonSetSyncs = 2); the HPA controller's from
// pkg/controller/podautoscaler/config/v1alpha1/defaults.go
// (RecommendedDefaultHPAControllerConfiguration: sync period 15 s, downscale stabilization 5 m,
// tolerance 0.1, CPU initialization period 5 m, initial readiness delay 30 s). They are restated here, from those files, so
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
		"kube-api-qps":                           "20",
		"kube-api-burst":                         "30",
		"concurrent-replicaset-syncs":            "5",
		"concurrent-rc-syncs":                    "5",
		"concurrent-job-syncs":                   "5",
		"concurrent-daemonset-syncs":             "2",

		"horizontal-pod-autoscaler-sync-period":               "15s",
		"horizontal-pod-autoscaler-downscale-stabilization":   "5m0s",
		"horizontal-pod-autoscaler-tolerance":                 "0.1",
		"horizontal-pod-autoscaler-cpu-initialization-period": "5m0s",
		"horizontal-pod-autoscaler-initial-readiness-delay":   "30s",
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
		{KubeControllerManager, "horizontal-pod-autoscaler-tolerance=-0.1", "expected a non-negative number"},
		{KubeControllerManager, "horizontal-pod-autoscaler-sync-period=0s", "expected a positive duration"},
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

// client-go's defaulting (rest.RESTClientFor): 0 is DefaultQPS 5 / DefaultBurst 10, and a QPS
// that is not positive leaves the client without a limiter (NewBucket returns nil).
func TestClientBucket(t *testing.T) {
	f := Defaults()
	if f.ClientQPS() != 20 || f.ClientBurst() != 30 {
		t.Errorf("defaults give %v/%d, want 20/30", f.ClientQPS(), f.ClientBurst())
	}
	if err := f.Set(KubeControllerManager, "kube-api-qps=0"); err != nil {
		t.Fatal(err)
	}
	if err := f.Set(KubeControllerManager, "kube-api-burst=0"); err != nil {
		t.Fatal(err)
	}
	if f.ClientQPS() != 5 || f.ClientBurst() != 10 {
		t.Errorf("0/0 gives %v/%d, want client-go's 5/10", f.ClientQPS(), f.ClientBurst())
	}
	if err := f.Set(KubeControllerManager, "kube-api-qps=-1"); err != nil {
		t.Fatal(err)
	}
	if err := f.Validate(); err != nil {
		t.Errorf("a negative QPS (no limiter) failed validation: %v", err)
	}
	if NewBucket(f.ClientQPS(), f.ClientBurst()) != nil {
		t.Error("a negative QPS made a limiter")
	}
	for _, arg := range []string{"kube-api-burst=-1", "concurrent-replicaset-syncs=0"} {
		g := Defaults()
		if err := g.Set(KubeControllerManager, arg); err != nil {
			t.Fatal(err)
		}
		if err := g.Validate(); err == nil {
			t.Errorf("%s passed validation", arg)
		}
	}
}

// The bucket is full at first, then refills at qps: burst requests go at once, the next one
// 1/qps later each.
func TestBucket(t *testing.T) {
	b := NewBucket(20, 30)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 30 {
		if got := b.Reserve(t0); !got.Equal(t0) {
			t.Fatalf("request %d at %v, want at once", i, got.Sub(t0))
		}
	}
	if got := b.NextFree(t0); got.Sub(t0) != 50*time.Millisecond {
		t.Errorf("next free after the burst in %v, want 50ms", got.Sub(t0))
	}
	for i := 1; i <= 3; i++ {
		if got := b.Reserve(t0); got.Sub(t0) != time.Duration(i)*50*time.Millisecond {
			t.Errorf("request %d after the burst at %v, want %v", i, got.Sub(t0), time.Duration(i)*50*time.Millisecond)
		}
	}
	if got := b.NextFree(t0.Add(150 * time.Millisecond)); got.Sub(t0) != 200*time.Millisecond {
		t.Errorf("next free at 150ms after 3 queued: %v, want 200ms", got.Sub(t0))
	}
	var none *Bucket
	if got := none.Reserve(t0); !got.Equal(t0) {
		t.Error("no limiter delayed a request")
	}
}

func TestValidate(t *testing.T) {
	f := Defaults()
	f.UnhealthyZoneThreshold = 1.5
	if err := f.Validate(); err == nil {
		t.Error("a threshold of 1.5 passed validation")
	}
}
