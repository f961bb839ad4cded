// Package controlplane holds the settings of the control plane components kwoksim models
// around the scheduler (kube-controller-manager's node lifecycle, taint eviction and pod
// garbage collection; kube-apiserver's DefaultTolerationSeconds admission), named as the real
// components' flags and defaulted as they are, so that they are set in one place: `kwoksim
// run --kcm-flag NAME=VALUE` and `--apiserver-flag NAME=VALUE`.
//
// It imports nothing of kwoksim and no client-go, so sim/ and workloads/ both read it.
package controlplane

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Flags are the settings, each field named after its real flag.
type Flags struct {
	// kube-controller-manager, node lifecycle controller
	// (cmd/kube-controller-manager/app/options/nodelifecyclecontroller.go; defaults from
	// pkg/controller/nodelifecycle/config/v1alpha1/defaults.go).

	// NodeMonitorPeriod is --node-monitor-period: how often the controller checks node health.
	NodeMonitorPeriod time.Duration
	// NodeMonitorGracePeriod is --node-monitor-grace-period: how long a running node may stop
	// reporting (no lease renewal, no status) before it is marked Unknown.
	NodeMonitorGracePeriod time.Duration
	// NodeStartupGracePeriod is --node-startup-grace-period: the same for a node that never
	// reported.
	NodeStartupGracePeriod time.Duration
	// NodeEvictionRate is --node-eviction-rate: nodes per second that get NoExecute taints when
	// their zone is healthy (or fully disrupted while another zone is not).
	NodeEvictionRate float32
	// SecondaryNodeEvictionRate is --secondary-node-eviction-rate: the rate in a partially
	// disrupted zone of more than LargeClusterSizeThreshold nodes (0 in smaller zones).
	SecondaryNodeEvictionRate float32
	// UnhealthyZoneThreshold is --unhealthy-zone-threshold: the fraction of not-Ready nodes
	// (at least 3) that makes a zone partially disrupted.
	UnhealthyZoneThreshold float32
	// LargeClusterSizeThreshold is --large-cluster-size-threshold.
	LargeClusterSizeThreshold int32

	// kube-controller-manager, pod garbage collector (pkg/controller/podgc/config/v1alpha1).

	// TerminatedPodGCThreshold is --terminated-pod-gc-threshold: terminated pods kept before
	// the oldest are deleted; 0 or less turns that part of the collector off.
	TerminatedPodGCThreshold int32

	// kube-apiserver, DefaultTolerationSeconds admission
	// (plugin/pkg/admission/defaulttolerationseconds).

	// DefaultNotReadyTolerationSeconds is --default-not-ready-toleration-seconds.
	DefaultNotReadyTolerationSeconds int64
	// DefaultUnreachableTolerationSeconds is --default-unreachable-toleration-seconds.
	DefaultUnreachableTolerationSeconds int64

	// kube-controller-manager, generic (k8s.io/controller-manager/options/generic.go; defaults
	// from pkg/controller/apis/config/v1alpha1/defaults.go): the rest.Config of every
	// controller's own client (cmd/kube-controller-manager/app/options/options.go Config, then
	// ClientBuilder's NewClient("replicaset-controller") etc.), so each controller has a token
	// bucket of its own (client-go rest.RESTClientFor: flowcontrol.NewTokenBucketRateLimiter).

	// KubeAPIQPS is --kube-api-qps: the requests per second each controller's client may
	// send. Zero means client-go's rest.DefaultQPS (5); negative turns the limiter off, as
	// rest.RESTClientFor does when qps is not positive after defaulting.
	KubeAPIQPS float32
	// KubeAPIBurst is --kube-api-burst: the bucket's size; zero means rest.DefaultBurst (10).
	KubeAPIBurst int32

	// kube-controller-manager, ReplicaSet and ReplicationController controllers
	// (pkg/controller/replicaset/config/v1alpha1, pkg/controller/replication/config/v1alpha1):
	// the workers that sync objects concurrently; a key waits while all are busy.

	// ConcurrentReplicaSetSyncs is --concurrent-replicaset-syncs.
	ConcurrentReplicaSetSyncs int32
	// ConcurrentRCSyncs is --concurrent-rc-syncs.
	ConcurrentRCSyncs int32
	// ConcurrentJobSyncs is --concurrent-job-syncs (pkg/controller/job/config/v1alpha1).
	ConcurrentJobSyncs int32
	// ConcurrentDaemonSetSyncs is --concurrent-daemonset-syncs
	// (pkg/controller/daemon/config/v1alpha1).
	ConcurrentDaemonSetSyncs int32

	// kube-controller-manager, horizontal pod autoscaler controller
	// (cmd/kube-controller-manager/app/options/hpacontroller.go; defaults from
	// pkg/controller/podautoscaler/config/v1alpha1/defaults.go).

	// HorizontalPodAutoscalerSyncPeriod is --horizontal-pod-autoscaler-sync-period: how often
	// each HPA is reconciled.
	HorizontalPodAutoscalerSyncPeriod time.Duration
	// HorizontalPodAutoscalerDownscaleStabilization is
	// --horizontal-pod-autoscaler-downscale-stabilization: how far back the highest
	// recommendation holds a scale-down (and the default of
	// behavior.scaleDown.stabilizationWindowSeconds).
	HorizontalPodAutoscalerDownscaleStabilization time.Duration
	// HorizontalPodAutoscalerTolerance is --horizontal-pod-autoscaler-tolerance: the relative
	// distance from the target within which nothing is scaled.
	HorizontalPodAutoscalerTolerance float64
	// HorizontalPodAutoscalerCPUInitializationPeriod is
	// --horizontal-pod-autoscaler-cpu-initialization-period: after a pod starts, how long its
	// CPU is only trusted once it has been Ready for a full metric window.
	HorizontalPodAutoscalerCPUInitializationPeriod time.Duration
	// HorizontalPodAutoscalerInitialReadinessDelay is
	// --horizontal-pod-autoscaler-initial-readiness-delay: after a pod starts, how long a
	// readiness change counts as the pod's first.
	HorizontalPodAutoscalerInitialReadinessDelay time.Duration
}

// ClientQPS and ClientBurst are the token bucket a controller's client gets from KubeAPIQPS
// and KubeAPIBurst after client-go's defaulting (rest.RESTClientFor: 0 means DefaultQPS 5 and
// DefaultBurst 10). A QPS that is not positive means no limiter.
func (fl *Flags) ClientQPS() float32 {
	if fl.KubeAPIQPS == 0 {
		return restDefaultQPS
	}
	return fl.KubeAPIQPS
}

// ClientBurst is the bucket size; see ClientQPS.
func (fl *Flags) ClientBurst() int {
	if fl.KubeAPIBurst == 0 {
		return restDefaultBurst
	}
	return int(fl.KubeAPIBurst)
}

// rest.DefaultQPS and rest.DefaultBurst (k8s.io/client-go/rest/config.go).
const (
	restDefaultQPS   = 5
	restDefaultBurst = 10
)

// Defaults are the real components' defaults in v1.37.2.
func Defaults() Flags {
	return Flags{
		NodeMonitorPeriod:                   5 * time.Second,
		NodeMonitorGracePeriod:              50 * time.Second,
		NodeStartupGracePeriod:              60 * time.Second,
		NodeEvictionRate:                    0.1,
		SecondaryNodeEvictionRate:           0.01,
		UnhealthyZoneThreshold:              0.55,
		LargeClusterSizeThreshold:           50,
		TerminatedPodGCThreshold:            12500,
		DefaultNotReadyTolerationSeconds:    300,
		DefaultUnreachableTolerationSeconds: 300,
		KubeAPIQPS:                          20,
		KubeAPIBurst:                        30,
		ConcurrentReplicaSetSyncs:           5,
		ConcurrentRCSyncs:                   5,
		ConcurrentJobSyncs:                  5,
		ConcurrentDaemonSetSyncs:            2,

		HorizontalPodAutoscalerSyncPeriod:              15 * time.Second,
		HorizontalPodAutoscalerDownscaleStabilization:  5 * time.Minute,
		HorizontalPodAutoscalerTolerance:               0.1,
		HorizontalPodAutoscalerCPUInitializationPeriod: 5 * time.Minute,
		HorizontalPodAutoscalerInitialReadinessDelay:   30 * time.Second,
	}
}

// Component names the process a flag belongs to.
type Component string

const (
	KubeControllerManager Component = "kube-controller-manager"
	KubeAPIServer         Component = "kube-apiserver"
)

// Flag describes one setting, for parsing and for documentation.
type Flag struct {
	Component Component
	Name      string // without the leading dashes
	Help      string
	get       func(*Flags) string
	set       func(*Flags, string) error
}

// Default is the flag's default, as the real flag prints it.
func (f Flag) Default() string {
	d := Defaults()
	return f.get(&d)
}

// Value is the flag's value in fl.
func (f Flag) Value(fl *Flags) string { return f.get(fl) }

// All lists every flag, by component then name.
func All() []Flag {
	out := append([]Flag(nil), table...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Component != out[j].Component {
			return out[i].Component > out[j].Component // kube-controller-manager first
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Set parses "NAME=VALUE" (NAME with or without leading dashes) for a flag of component c.
func (fl *Flags) Set(c Component, arg string) error {
	name, value, ok := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	if !ok {
		return fmt.Errorf("expected NAME=VALUE, such as %s, got %q", example(c), arg)
	}
	for _, f := range table {
		if f.Component == c && f.Name == name {
			if err := f.set(fl, value); err != nil {
				return fmt.Errorf("--%s: %v", name, err)
			}
			return nil
		}
	}
	var names []string
	for _, f := range All() {
		if f.Component == c {
			names = append(names, f.Name)
		}
	}
	return fmt.Errorf("%s flag %q is not modelled; expected one of %s", c, name, strings.Join(names, ", "))
}

func example(c Component) string {
	if c == KubeAPIServer {
		return "default-not-ready-toleration-seconds=60"
	}
	return "node-eviction-rate=0.2"
}

// Validate checks the values are usable, as the real components' validation would.
func (fl *Flags) Validate() error {
	switch {
	case fl.NodeMonitorPeriod <= 0:
		return fmt.Errorf("--node-monitor-period must be positive, got %v", fl.NodeMonitorPeriod)
	case fl.NodeMonitorGracePeriod <= 0:
		return fmt.Errorf("--node-monitor-grace-period must be positive, got %v", fl.NodeMonitorGracePeriod)
	case fl.NodeStartupGracePeriod <= 0:
		return fmt.Errorf("--node-startup-grace-period must be positive, got %v", fl.NodeStartupGracePeriod)
	case fl.NodeEvictionRate < 0 || fl.SecondaryNodeEvictionRate < 0:
		return fmt.Errorf("eviction rates must not be negative")
	case fl.UnhealthyZoneThreshold < 0 || fl.UnhealthyZoneThreshold > 1:
		return fmt.Errorf("--unhealthy-zone-threshold must be within [0, 1], got %v", fl.UnhealthyZoneThreshold)
	case fl.DefaultNotReadyTolerationSeconds < 0 || fl.DefaultUnreachableTolerationSeconds < 0:
		return fmt.Errorf("default toleration seconds must not be negative")
	case fl.HorizontalPodAutoscalerTolerance < 0:
		return fmt.Errorf("--horizontal-pod-autoscaler-tolerance must not be negative, got %v", fl.HorizontalPodAutoscalerTolerance)
	case fl.KubeAPIBurst < 0:
		// rate.NewLimiter with a negative burst would never let a request through.
		return fmt.Errorf("--kube-api-burst must not be negative, got %d", fl.KubeAPIBurst)
	case fl.ConcurrentReplicaSetSyncs < 1 || fl.ConcurrentRCSyncs < 1 || fl.ConcurrentJobSyncs < 1 || fl.ConcurrentDaemonSetSyncs < 1:
		// With no worker the controller would never sync anything.
		return fmt.Errorf("--concurrent-replicaset-syncs, --concurrent-rc-syncs, --concurrent-job-syncs and --concurrent-daemonset-syncs must be at least 1")
	}
	return nil
}

func durationFlag(c Component, name, help string, p func(*Flags) *time.Duration) Flag {
	return Flag{Component: c, Name: name, Help: help,
		get: func(f *Flags) string { return p(f).String() },
		set: func(f *Flags, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("expected a positive duration such as 40s, got %q", v)
			}
			*p(f) = d
			return nil
		}}
}

func rateFlag(c Component, name, help string, p func(*Flags) *float32) Flag {
	return Flag{Component: c, Name: name, Help: help,
		get: func(f *Flags) string { return strconv.FormatFloat(float64(*p(f)), 'g', -1, 32) },
		set: func(f *Flags, v string) error {
			x, err := strconv.ParseFloat(v, 32)
			if err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
				return fmt.Errorf("expected a non-negative number, got %q", v)
			}
			*p(f) = float32(x)
			return nil
		}}
}

func float64Flag(c Component, name, help string, p func(*Flags) *float64) Flag {
	return Flag{Component: c, Name: name, Help: help,
		get: func(f *Flags) string { return strconv.FormatFloat(*p(f), 'g', -1, 64) },
		set: func(f *Flags, v string) error {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
				return fmt.Errorf("expected a non-negative number, got %q", v)
			}
			*p(f) = x
			return nil
		}}
}

// signedFloatFlag is a float32 flag that may be negative (--kube-api-qps: negative turns the
// limiter off).
func signedFloatFlag(c Component, name, help string, p func(*Flags) *float32) Flag {
	return Flag{Component: c, Name: name, Help: help,
		get: func(f *Flags) string { return strconv.FormatFloat(float64(*p(f)), 'g', -1, 32) },
		set: func(f *Flags, v string) error {
			x, err := strconv.ParseFloat(v, 32)
			if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
				return fmt.Errorf("expected a number, got %q", v)
			}
			*p(f) = float32(x)
			return nil
		}}
}

func intFlag(c Component, name, help string, bits int, p func(*Flags) *int64) Flag {
	return Flag{Component: c, Name: name, Help: help,
		get: func(f *Flags) string { return strconv.FormatInt(*p(f), 10) },
		set: func(f *Flags, v string) error {
			x, err := strconv.ParseInt(v, 10, bits)
			if err != nil {
				return fmt.Errorf("expected an integer, got %q", v)
			}
			*p(f) = x
			return nil
		}}
}

// int32Flag adapts an int32 field to intFlag.
func int32Flag(c Component, name, help string, p func(*Flags) *int32) Flag {
	var tmp int64
	f := intFlag(c, name, help, 32, func(*Flags) *int64 { return &tmp })
	return Flag{Component: c, Name: name, Help: help,
		get: func(fl *Flags) string { return strconv.FormatInt(int64(*p(fl)), 10) },
		set: func(fl *Flags, v string) error {
			if err := f.set(fl, v); err != nil {
				return err
			}
			*p(fl) = int32(tmp)
			return nil
		}}
}

var table = []Flag{
	durationFlag(KubeControllerManager, "node-monitor-period", "how often the node lifecycle controller checks node health",
		func(f *Flags) *time.Duration { return &f.NodeMonitorPeriod }),
	durationFlag(KubeControllerManager, "node-monitor-grace-period", "how long a node may stop reporting before it is marked Unknown (unreachable)",
		func(f *Flags) *time.Duration { return &f.NodeMonitorGracePeriod }),
	durationFlag(KubeControllerManager, "node-startup-grace-period", "the same for a node that never reported",
		func(f *Flags) *time.Duration { return &f.NodeStartupGracePeriod }),
	rateFlag(KubeControllerManager, "node-eviction-rate", "nodes per second given NoExecute taints when their zone is healthy",
		func(f *Flags) *float32 { return &f.NodeEvictionRate }),
	rateFlag(KubeControllerManager, "secondary-node-eviction-rate", "the same in a partially disrupted zone larger than --large-cluster-size-threshold (0 in smaller zones)",
		func(f *Flags) *float32 { return &f.SecondaryNodeEvictionRate }),
	rateFlag(KubeControllerManager, "unhealthy-zone-threshold", "fraction of not-Ready nodes (at least 3) that makes a zone partially disrupted",
		func(f *Flags) *float32 { return &f.UnhealthyZoneThreshold }),
	int32Flag(KubeControllerManager, "large-cluster-size-threshold", "zone size above which --secondary-node-eviction-rate applies",
		func(f *Flags) *int32 { return &f.LargeClusterSizeThreshold }),
	int32Flag(KubeControllerManager, "terminated-pod-gc-threshold", "terminated pods kept before the oldest are garbage-collected (0: never)",
		func(f *Flags) *int32 { return &f.TerminatedPodGCThreshold }),
	signedFloatFlag(KubeControllerManager, "kube-api-qps", "requests per second each controller's client may send (the pace of pod creation); negative: no limit",
		func(f *Flags) *float32 { return &f.KubeAPIQPS }),
	int32Flag(KubeControllerManager, "kube-api-burst", "requests each controller's client may send at once before --kube-api-qps paces them",
		func(f *Flags) *int32 { return &f.KubeAPIBurst }),
	int32Flag(KubeControllerManager, "concurrent-replicaset-syncs", "ReplicaSets synced at once; others wait for a worker",
		func(f *Flags) *int32 { return &f.ConcurrentReplicaSetSyncs }),
	int32Flag(KubeControllerManager, "concurrent-rc-syncs", "ReplicationControllers synced at once; others wait for a worker",
		func(f *Flags) *int32 { return &f.ConcurrentRCSyncs }),
	int32Flag(KubeControllerManager, "concurrent-job-syncs", "Jobs synced at once when paced; others wait for a worker",
		func(f *Flags) *int32 { return &f.ConcurrentJobSyncs }),
	int32Flag(KubeControllerManager, "concurrent-daemonset-syncs", "DaemonSets synced at once when paced; others wait for a worker",
		func(f *Flags) *int32 { return &f.ConcurrentDaemonSetSyncs }),
	durationFlag(KubeControllerManager, "horizontal-pod-autoscaler-sync-period", "the period for syncing the number of pods in horizontal pod autoscaler",
		func(f *Flags) *time.Duration { return &f.HorizontalPodAutoscalerSyncPeriod }),
	durationFlag(KubeControllerManager, "horizontal-pod-autoscaler-downscale-stabilization", "the period for which autoscaler will look backwards and not scale down below any recommendation it made during that period",
		func(f *Flags) *time.Duration { return &f.HorizontalPodAutoscalerDownscaleStabilization }),
	float64Flag(KubeControllerManager, "horizontal-pod-autoscaler-tolerance", "the minimum change (from 1.0) in the desired-to-actual metrics ratio for the horizontal pod autoscaler to consider scaling",
		func(f *Flags) *float64 { return &f.HorizontalPodAutoscalerTolerance }),
	durationFlag(KubeControllerManager, "horizontal-pod-autoscaler-cpu-initialization-period", "the period after pod start when CPU samples might be skipped",
		func(f *Flags) *time.Duration { return &f.HorizontalPodAutoscalerCPUInitializationPeriod }),
	durationFlag(KubeControllerManager, "horizontal-pod-autoscaler-initial-readiness-delay", "the period after pod start during which readiness changes will be treated as initial readiness",
		func(f *Flags) *time.Duration { return &f.HorizontalPodAutoscalerInitialReadinessDelay }),
	intFlag(KubeAPIServer, "default-not-ready-toleration-seconds", "tolerationSeconds DefaultTolerationSeconds admission gives every pod for the not-ready taint",
		63, func(f *Flags) *int64 { return &f.DefaultNotReadyTolerationSeconds }),
	intFlag(KubeAPIServer, "default-unreachable-toleration-seconds", "the same for the unreachable taint",
		63, func(f *Flags) *int64 { return &f.DefaultUnreachableTolerationSeconds }),
}
