package autoscaling

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Flag describes one setting of Options, named as the real flag, for parsing (`kwoksim run
// --autoscaler-flag NAME=VALUE`) and for documentation.
type Flag struct {
	// Component is the autoscaler whose flag it is: ClusterAutoscaler or Karpenter.
	Component string
	// Name is the flag's name, without the leading dashes.
	Name string
	// Help is the real flag's usage text (cluster-autoscaler config/flags/flags.go; Karpenter
	// pkg/operator/options/options.go), shortened where it names what kwoksim does not model.
	Help string
	get  func(*Options) string
	set  func(*Options, string) error
	// isDuration marks a time.Duration field, which Validate checks is not negative.
	isDuration bool
}

// Default is the flag's default, as the real flag prints it (Go's flag package: a duration as
// time.Duration.String, 10m0s).
func (f Flag) Default() string {
	d := DefaultOptions()
	return f.get(&d)
}

// Value is the flag's value in o.
func (f Flag) Value(o *Options) string { return f.get(o) }

// Flags lists every flag, cluster-autoscaler's first, each component's by name.
func Flags() []Flag {
	var out []Flag
	for _, c := range []string{ClusterAutoscaler, Karpenter} {
		out = append(out, ComponentFlags(c)...)
	}
	return out
}

// ComponentFlags lists the flags of one autoscaler, by name.
func ComponentFlags(component string) []Flag {
	var out []Flag
	for _, f := range flagTable {
		if f.Component == component {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupFlag finds a flag by name (with or without leading dashes).
func LookupFlag(name string) (Flag, bool) {
	name = strings.TrimLeft(name, "-")
	for _, f := range flagTable {
		if f.Name == name {
			return f, true
		}
	}
	return Flag{}, false
}

// Set parses one "NAME=VALUE" (NAME with or without leading dashes) into o, whichever
// autoscaler the flag belongs to, and returns the flag. An unknown name is an error that
// lists the modelled ones.
func (o *Options) Set(arg string) (Flag, error) {
	name, value, ok := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	if !ok {
		return Flag{}, fmt.Errorf("expected NAME=VALUE, such as scale-down-unneeded-time=5m, got %q", arg)
	}
	f, found := LookupFlag(name)
	if !found {
		var lists []string
		for _, c := range []string{ClusterAutoscaler, Karpenter} {
			var names []string
			for _, f := range ComponentFlags(c) {
				names = append(names, f.Name)
			}
			lists = append(lists, c+": "+strings.Join(names, ", "))
		}
		return Flag{}, fmt.Errorf("autoscaler flag %q is not modelled; expected one of %s", name, strings.Join(lists, "; "))
	}
	if err := f.set(o, value); err != nil {
		return Flag{}, fmt.Errorf("--%s: %v", f.Name, err)
	}
	return f, nil
}

// ApplyFlags sets each NAME=VALUE of args on o, whose Autoscaler must be resolved already
// (see Resolve): a flag of the other autoscaler, or any flag when the autoscaler is None, is
// an error, since nothing in the run would read it.
func (o *Options) ApplyFlags(args []string) error {
	for _, arg := range args {
		f, err := o.Set(arg)
		if err != nil {
			return err
		}
		if f.Component != o.Autoscaler {
			which := o.Autoscaler
			if which == "" || which == None {
				which = "none"
			}
			return fmt.Errorf("--autoscaler-flag %s is a %s flag, but the run's autoscaler is %s; give --autoscaler %s to model it",
				f.Name, f.Component, which, f.Component)
		}
	}
	return nil
}

// Expanders are cluster-autoscaler's expander names (expander/expander.go,
// AvailableExpanders), in its order. GRPCExpander is one of them that kwoksim does not model.
var Expanders = []string{"random", "most-pods", "least-waste", "price", "priority", "least-nodes", GRPCExpander}

// GRPCExpander calls an external service, which an offline simulation has none of.
const GRPCExpander = "grpc"

// Validate checks the values are usable: a known autoscaler, a threshold within [0, 1],
// durations not negative, expanders cluster-autoscaler knows and kwoksim models, parallelism
// of at least 1.
func (o *Options) Validate() error {
	switch o.Autoscaler {
	case "", None, ClusterAutoscaler, Karpenter:
	default:
		return fmt.Errorf("unknown autoscaler %q; expected %s, %s or %s", o.Autoscaler, None, ClusterAutoscaler, Karpenter)
	}
	if t := o.ScaleDownUtilizationThreshold; t < 0 || t > 1 || math.IsNaN(t) {
		return fmt.Errorf("--scale-down-utilization-threshold must be within [0, 1], got %v", t)
	}
	for _, f := range flagTable {
		if d, ok := f.duration(o); ok && d < 0 {
			return fmt.Errorf("--%s must not be negative, got %v", f.Name, d)
		}
	}
	if err := CheckExpander(o.Expander); err != nil {
		return err
	}
	switch {
	case o.MaxNodesTotal < 0:
		return fmt.Errorf("--max-nodes-total must not be negative (0: no limit), got %d", o.MaxNodesTotal)
	case o.MaxScaleDownParallelism < 1:
		// cluster-autoscaler does not check it; with 0 it would remove no node, so kwoksim
		// asks for --scale-down-enabled=false instead, which says so.
		return fmt.Errorf("--max-scale-down-parallelism must be at least 1 (to turn scale-down off, --scale-down-enabled=false), got %d", o.MaxScaleDownParallelism)
	case o.MaxDrainParallelism < 1:
		return fmt.Errorf("--max-drain-parallelism must be at least 1, got %d", o.MaxDrainParallelism)
	case o.MaxGracefulTerminationSec < 0:
		return fmt.Errorf("--max-graceful-termination-sec must not be negative, got %d", o.MaxGracefulTerminationSec)
	}
	return nil
}

// CheckExpander checks an --expander value: one name, or a comma-separated chain of them
// (expander/factory/expander_factory.go splits on ","), each one cluster-autoscaler knows and
// kwoksim models.
func CheckExpander(value string) error {
	if value == "" {
		return fmt.Errorf("--expander: must name an expander; expected one of %s, or a comma-separated chain of them", strings.Join(modelledExpanders(), ", "))
	}
	seen := map[string]bool{}
	for _, name := range strings.Split(value, ",") {
		switch {
		case name == GRPCExpander:
			return fmt.Errorf("--expander %s: the grpc expander asks an external service, which kwoksim does not model; expected one of %s",
				GRPCExpander, strings.Join(modelledExpanders(), ", "))
		case !contains(Expanders, name):
			// cluster-autoscaler fails the same way: "Expander %s not supported".
			return fmt.Errorf("--expander: expander %q not supported; expected one of %s, or a comma-separated chain of them",
				name, strings.Join(modelledExpanders(), ", "))
		case seen[name]:
			return fmt.Errorf("--expander: %q is given twice in the chain %q", name, value)
		}
		seen[name] = true
	}
	return nil
}

func modelledExpanders() []string {
	var out []string
	for _, e := range Expanders {
		if e != GRPCExpander {
			out = append(out, e)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// duration is the flag's value when it is a duration.
func (f Flag) duration(o *Options) (time.Duration, bool) {
	d, err := time.ParseDuration(f.get(o))
	return d, err == nil && f.isDuration
}

func durationFlag(c, name, help string, p func(*Options) *time.Duration) Flag {
	return Flag{Component: c, Name: name, Help: help, isDuration: true,
		get: func(o *Options) string { return p(o).String() },
		set: func(o *Options, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("expected a duration of 0 or more, such as 10m or 30s, got %q", v)
			}
			*p(o) = d
			return nil
		}}
}

func boolFlag(c, name, help string, p func(*Options) *bool) Flag {
	return Flag{Component: c, Name: name, Help: help,
		get: func(o *Options) string { return strconv.FormatBool(*p(o)) },
		set: func(o *Options, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("expected true or false, got %q", v)
			}
			*p(o) = b
			return nil
		}}
}

func intFlag(c, name, help string, min int64, p func(*Options) *int) Flag {
	return Flag{Component: c, Name: name, Help: help,
		get: func(o *Options) string { return strconv.Itoa(*p(o)) },
		set: func(o *Options, v string) error {
			x, err := strconv.ParseInt(v, 10, 32)
			if err != nil || x < min {
				return fmt.Errorf("expected an integer of %d or more, got %q", min, v)
			}
			*p(o) = int(x)
			return nil
		}}
}

// int32Flag is a flag that takes any 32-bit integer, as a pod priority.
func int32Flag(c, name, help string, p func(*Options) *int32) Flag {
	return Flag{Component: c, Name: name, Help: help,
		get: func(o *Options) string { return strconv.FormatInt(int64(*p(o)), 10) },
		set: func(o *Options, v string) error {
			x, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return fmt.Errorf("expected an integer, got %q", v)
			}
			*p(o) = int32(x)
			return nil
		}}
}

func stringFlag(c, name, help string, check func(string) error, p func(*Options) *string) Flag {
	return Flag{Component: c, Name: name, Help: help,
		get: func(o *Options) string { return *p(o) },
		set: func(o *Options, v string) error {
			if err := check(v); err != nil {
				// check names the flag itself ("--expander: …"); Set adds it again.
				msg := err.Error()
				if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "--") {
					msg = rest
				}
				return errors.New(msg)
			}
			*p(o) = v
			return nil
		}}
}

// The flags, cluster-autoscaler's then Karpenter's. Help texts are the
// real ones (cluster-autoscaler config/flags/flags.go; Karpenter
// pkg/operator/options/options.go).
var flagTable = []Flag{
	boolFlag(ClusterAutoscaler, "ignore-daemonsets-utilization", "Should CA ignore DaemonSet pods when calculating resource utilization for scaling down",
		func(o *Options) *bool { return &o.IgnoreDaemonSetsUtilization }),
	int32Flag(ClusterAutoscaler, "expendable-pods-priority-cutoff", "Pods with priority below cutoff will be expendable. They can be killed without any consideration during scale down and they don't cause scale up",
		func(o *Options) *int32 { return &o.ExpendablePodsPriorityCutoff }),
	stringFlag(ClusterAutoscaler, "expander", "Type of node group expander to be used in scale up: random, most-pods, least-waste, price, priority or least-nodes (grpc is not modelled). Specifying multiple values separated by commas will call the expanders in succession until there is only one option remaining. Ties still existing after this process are broken randomly (from the run's seed)",
		CheckExpander, func(o *Options) *string { return &o.Expander }),
	durationFlag(ClusterAutoscaler, "initial-node-group-backoff-duration", "the duration of first backoff after a new node failed to start",
		func(o *Options) *time.Duration { return &o.InitialNodeGroupBackoffDuration }),
	intFlag(ClusterAutoscaler, "max-drain-parallelism", "Maximum number of nodes needing drain, that can be drained and deleted in parallel",
		1, func(o *Options) *int { return &o.MaxDrainParallelism }),
	intFlag(ClusterAutoscaler, "max-graceful-termination-sec", "Maximum number of seconds CA waits for pod termination when trying to scale down a node",
		0, func(o *Options) *int { return &o.MaxGracefulTerminationSec }),
	durationFlag(ClusterAutoscaler, "max-node-group-backoff-duration", "the maximum backoff duration for a NodeGroup after new nodes failed to start",
		func(o *Options) *time.Duration { return &o.MaxNodeGroupBackoffDuration }),
	durationFlag(ClusterAutoscaler, "max-node-provision-time", "The maximum time CA waits for node to be provisioned",
		func(o *Options) *time.Duration { return &o.MaxNodeProvisionTime }),
	intFlag(ClusterAutoscaler, "max-nodes-total", "Maximum number of nodes in all node groups. Cluster autoscaler will not grow the cluster beyond this number (0: no limit)",
		0, func(o *Options) *int { return &o.MaxNodesTotal }),
	durationFlag(ClusterAutoscaler, "max-pod-eviction-time", "Maximum time CA tries to evict a pod before giving up",
		func(o *Options) *time.Duration { return &o.MaxPodEvictionTime }),
	intFlag(ClusterAutoscaler, "max-scale-down-parallelism", "Maximum number of nodes (both empty and needing drain) that can be deleted in parallel",
		1, func(o *Options) *int { return &o.MaxScaleDownParallelism }),
	durationFlag(ClusterAutoscaler, "new-pod-scale-up-delay", "Pods less than this old will not be considered for scale-up",
		func(o *Options) *time.Duration { return &o.NewPodScaleUpDelay }),
	durationFlag(ClusterAutoscaler, "node-delete-delay-after-taint", "How long to wait before deleting a node after tainting it",
		func(o *Options) *time.Duration { return &o.NodeDeleteDelayAfterTaint }),
	durationFlag(ClusterAutoscaler, "node-group-backoff-reset-timeout", "the time after last failed scale-up when the backoff duration is reset",
		func(o *Options) *time.Duration { return &o.NodeGroupBackoffResetTimeout }),
	durationFlag(ClusterAutoscaler, "scale-down-delay-after-add", "How long after scale up that scale down evaluation resumes",
		func(o *Options) *time.Duration { return &o.ScaleDownDelayAfterAdd }),
	durationFlag(ClusterAutoscaler, "scale-down-delay-after-delete", "How long after node deletion that scale down evaluation resumes",
		func(o *Options) *time.Duration { return &o.ScaleDownDelayAfterDelete }),
	durationFlag(ClusterAutoscaler, "scale-down-delay-after-failure", "How long after scale down failure that scale down evaluation resumes",
		func(o *Options) *time.Duration { return &o.ScaleDownDelayAfterFailure }),
	boolFlag(ClusterAutoscaler, "scale-down-enabled", "Should CA scale down the cluster",
		func(o *Options) *bool { return &o.ScaleDownEnabled }),
	durationFlag(ClusterAutoscaler, "scale-down-unneeded-time", "How long a node should be unneeded before it is eligible for scale down",
		func(o *Options) *time.Duration { return &o.ScaleDownUnneededTime }),
	durationFlag(ClusterAutoscaler, "scale-down-unready-time", "How long an unready node should be unneeded before it is eligible for scale down",
		func(o *Options) *time.Duration { return &o.ScaleDownUnreadyTime }),
	thresholdFlag(ClusterAutoscaler, "scale-down-utilization-threshold", "The maximum value between the sum of cpu requests and sum of memory requests of all pods running on the node divided by node's corresponding allocatable resource, below which a node can be considered for scale down",
		func(o *Options) *float64 { return &o.ScaleDownUtilizationThreshold }),
	durationFlag(ClusterAutoscaler, "scan-interval", "How often cluster is reevaluated for scale up or down",
		func(o *Options) *time.Duration { return &o.ScanInterval }),
	boolFlag(ClusterAutoscaler, "skip-nodes-with-custom-controller-pods", "If true cluster autoscaler will never delete nodes with pods owned by custom controllers",
		func(o *Options) *bool { return &o.SkipNodesWithCustomControllerPods }),
	boolFlag(ClusterAutoscaler, "skip-nodes-with-local-storage", "If true cluster autoscaler will never delete nodes with pods with local storage, e.g. EmptyDir or HostPath",
		func(o *Options) *bool { return &o.SkipNodesWithLocalStorage }),
	boolFlag(ClusterAutoscaler, "skip-nodes-with-system-pods", "If true cluster autoscaler will wait for --blocking-system-pod-distruption-timeout before deleting nodes with pods from kube-system (except for DaemonSet or mirror pods)",
		func(o *Options) *bool { return &o.SkipNodesWithSystemPods }),

	durationFlag(Karpenter, "batch-idle-duration", "The maximum amount of time with no new pending pods that if exceeded ends the current batching window. If pods arrive faster than this time, the batching window will be extended up to the maxDuration. If they arrive slower, the pods will be batched separately.",
		func(o *Options) *time.Duration { return &o.BatchIdleDuration }),
	durationFlag(Karpenter, "batch-max-duration", "The maximum length of a batch window. The longer this is, the more pods we can consider for provisioning at one time which usually results in fewer but larger nodes.",
		func(o *Options) *time.Duration { return &o.BatchMaxDuration }),
	ignoreDRAFlag(),
}

// ignoreDRAFlag is Karpenter's --ignore-dra-requests, of which only the default (true) is
// modelled: false switches on Karpenter's own device simulation (v1.14 and later, over the
// devices its cloud provider predicts for each instance type), which kwoksim does not have.
func ignoreDRAFlag() Flag {
	f := boolFlag(Karpenter, "ignore-dra-requests", "When set, Karpenter will ignore pods' DRA requests during scheduling simulations (only true is modelled)",
		func(o *Options) *bool { return &o.IgnoreDRARequests })
	set := f.set
	f.set = func(o *Options, v string) error {
		if b, err := strconv.ParseBool(v); err == nil && !b {
			return fmt.Errorf("false is not modelled: Karpenter's own device simulation (v1.14 and later) is not in kwoksim; only the default, true (pods' device claims left out of its simulations), is")
		}
		return set(o, v)
	}
	return f
}

func thresholdFlag(c, name, help string, p func(*Options) *float64) Flag {
	return Flag{Component: c, Name: name, Help: help,
		get: func(o *Options) string { return strconv.FormatFloat(*p(o), 'g', -1, 64) },
		set: func(o *Options, v string) error {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || x < 0 || x > 1 || math.IsNaN(x) {
				return fmt.Errorf("expected a number within [0, 1], got %q", v)
			}
			*p(o) = x
			return nil
		}}
}
