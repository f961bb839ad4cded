package autoscaling

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// Every field of Options but Autoscaler has exactly one flag, named after the real flag (the
// field name in kebab case, as the real flags are named), and each flag sets its own field.
func TestFlagTableCoversOptions(t *testing.T) {
	typ := reflect.TypeOf(Options{})
	fields := map[string]bool{}
	for i := range typ.NumField() {
		if name := typ.Field(i).Name; name != "Autoscaler" {
			fields[kebab(name)] = true
		}
	}
	seen := map[string]bool{}
	for _, f := range Flags() {
		if seen[f.Name] {
			t.Errorf("flag %s listed twice", f.Name)
		}
		seen[f.Name] = true
		if !fields[f.Name] {
			t.Errorf("flag %s names no Options field", f.Name)
		}
	}
	for name := range fields {
		if !seen[name] {
			t.Errorf("Options field for --%s has no flag", name)
		}
	}
}

// kebab turns a Go field name into the flag's name: ScaleDownDelayAfterAdd →
// scale-down-delay-after-add; IgnoreDaemonSetsUtilization → ignore-daemonsets-utilization
// (the real flag writes daemonsets as one word); an initialism is one word
// (IgnoreDRARequests → ignore-dra-requests).
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		upper := func(j int) bool { return j < len(s) && s[j] >= 'A' && s[j] <= 'Z' }
		if upper(i) && i > 0 && upper(i-1) && (i+1 == len(s) || upper(i+1)) {
			b.WriteRune(r + 'a' - 'A') // inside an initialism: no dash
			continue
		}
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return strings.ReplaceAll(b.String(), "daemon-sets", "daemonsets")
}

// Defaults print as Go's flag package prints the real flags' defaults (cluster-autoscaler
// config/flags/flags.go, docs/autoscaling.md §1.5; Karpenter options.go).
func TestFlagDefaults(t *testing.T) {
	want := map[string]string{
		"scan-interval":                    "10s",
		"expander":                         "least-waste",
		"max-nodes-total":                  "0",
		"scale-down-utilization-threshold": "0.5",
		"scale-down-unneeded-time":         "10m0s",
		"scale-down-unready-time":          "20m0s",
		"scale-down-delay-after-delete":    "0s",
		"scale-down-delay-after-failure":   "3m0s",
		"max-node-provision-time":          "15m0s",
		"node-group-backoff-reset-timeout": "3h0m0s",
		"max-graceful-termination-sec":     "600",
		"expendable-pods-priority-cutoff":  "-10",
		"skip-nodes-with-system-pods":      "true",
		"ignore-daemonsets-utilization":    "false",
		"batch-idle-duration":              "1s",
		"batch-max-duration":               "10s",
		"ignore-dra-requests":              "true",
	}
	for name, def := range want {
		f, ok := LookupFlag(name)
		if !ok {
			t.Errorf("no flag %s", name)
			continue
		}
		if got := f.Default(); got != def {
			t.Errorf("--%s default %q, want %q", name, got, def)
		}
	}
	for _, f := range Flags() {
		want := ClusterAutoscaler
		if strings.HasPrefix(f.Name, "batch-") || f.Name == "ignore-dra-requests" {
			want = Karpenter
		}
		if f.Component != want {
			t.Errorf("--%s belongs to %s, want %s", f.Name, f.Component, want)
		}
	}
}

func TestSetFlag(t *testing.T) {
	o := DefaultOptions()
	for _, arg := range []string{"scale-down-unneeded-time=5m", "--expander=priority,least-waste", "scale-down-utilization-threshold=1",
		"skip-nodes-with-local-storage=false", "expendable-pods-priority-cutoff=-100", "batch-idle-duration=0s", "max-nodes-total=40", "ignore-dra-requests=true"} {
		if _, err := o.Set(arg); err != nil {
			t.Fatalf("Set(%q): %v", arg, err)
		}
	}
	if o.ScaleDownUnneededTime != 5*time.Minute || o.Expander != "priority,least-waste" || o.ScaleDownUtilizationThreshold != 1 ||
		o.SkipNodesWithLocalStorage || o.ExpendablePodsPriorityCutoff != -100 || o.BatchIdleDuration != 0 || o.MaxNodesTotal != 40 {
		t.Errorf("after Set: %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestSetFlagErrors(t *testing.T) {
	for _, tc := range []struct{ arg, want string }{
		{"scale-down-unneeded-time", "expected NAME=VALUE"},
		{"scale-down-unneded-time=5m", `autoscaler flag "scale-down-unneded-time" is not modelled; expected one of cluster-autoscaler: expander, `},
		{"scale-down-unneded-time=5m", "skip-nodes-with-system-pods; karpenter: batch-idle-duration, batch-max-duration, ignore-dra-requests"},
		{"ignore-dra-requests=false", "--ignore-dra-requests: false is not modelled: Karpenter's own device simulation"},
		{"ignore-dra-requests=no", "expected true or false"},
		{"scale-down-unneeded-time=-5m", "--scale-down-unneeded-time: expected a duration of 0 or more"},
		{"scale-down-utilization-threshold=1.5", "--scale-down-utilization-threshold: expected a number within [0, 1]"},
		{"expander=grpc", "--expander: the grpc expander asks an external service, which kwoksim does not model"},
		{"expander=cheapest", `--expander: expander "cheapest" not supported; expected one of random, most-pods, least-waste, price, priority, least-nodes`},
		{"expander=price,,random", `expander "" not supported`},
		{"expander=price,price", `"price" is given twice`},
		{"expander=", "--expander: must name an expander; expected one of random,"},
		{"max-drain-parallelism=0", "--max-drain-parallelism: expected an integer of 1 or more"},
		{"skip-nodes-with-system-pods=maybe", "expected true or false"},
	} {
		o := DefaultOptions()
		_, err := o.Set(tc.arg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Set(%q) = %v, want it to contain %q", tc.arg, err, tc.want)
		}
	}
}

func TestApplyFlagsComponent(t *testing.T) {
	o := DefaultOptions()
	o.Autoscaler = Karpenter
	err := o.ApplyFlags([]string{"batch-max-duration=20s", "scale-down-unneeded-time=1m"})
	if err == nil || !strings.Contains(err.Error(), "--autoscaler-flag scale-down-unneeded-time is a cluster-autoscaler flag, but the run's autoscaler is karpenter") {
		t.Errorf("a cluster-autoscaler flag with karpenter: %v", err)
	}
	o = DefaultOptions()
	o.Autoscaler = None
	if err := o.ApplyFlags([]string{"scan-interval=5s"}); err == nil || !strings.Contains(err.Error(), "the run's autoscaler is none") {
		t.Errorf("a flag with none: %v", err)
	}
	o = DefaultOptions()
	o.Autoscaler = ClusterAutoscaler
	if err := o.ApplyFlags([]string{"scan-interval=5s"}); err != nil || o.ScanInterval != 5*time.Second {
		t.Errorf("a cluster-autoscaler flag with cluster-autoscaler: %v, %v", err, o.ScanInterval)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"unknown autoscaler", func(o *Options) { o.Autoscaler = "keda" }, `unknown autoscaler "keda"`},
		{"threshold", func(o *Options) { o.ScaleDownUtilizationThreshold = -0.1 }, "--scale-down-utilization-threshold must be within [0, 1]"},
		{"negative duration", func(o *Options) { o.ScaleDownDelayAfterAdd = -time.Second }, "--scale-down-delay-after-add must not be negative"},
		{"grpc", func(o *Options) { o.Expander = "grpc" }, "not model"},
		{"parallelism", func(o *Options) { o.MaxScaleDownParallelism = 0 }, "--max-scale-down-parallelism must be at least 1"},
		{"max nodes", func(o *Options) { o.MaxNodesTotal = -1 }, "--max-nodes-total must not be negative"},
	} {
		o := DefaultOptions()
		tc.change(&o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want %q", tc.name, err, tc.want)
		}
	}
	o := DefaultOptions()
	if err := o.Validate(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		given     string
		havePools bool
		want      string
		note      bool
	}{
		{"", false, None, false},
		{"", true, ClusterAutoscaler, true},
		{Karpenter, true, Karpenter, false},
		{None, true, None, false},
		{ClusterAutoscaler, false, ClusterAutoscaler, false},
	} {
		o := Options{Autoscaler: tc.given}
		note := o.Resolve(tc.havePools)
		if o.Autoscaler != tc.want || (note != "") != tc.note {
			t.Errorf("Resolve(%q, pools %v) = %q, note %q; want %q, note %v", tc.given, tc.havePools, o.Autoscaler, note, tc.want, tc.note)
		}
	}
	o := Options{Autoscaler: ClusterAutoscaler}
	if err := o.CheckPools(false); err == nil || !strings.Contains(err.Error(), "--autoscaler cluster-autoscaler: the inputs have no NodePool") {
		t.Errorf("cluster-autoscaler without pools: %v", err)
	}
	o = Options{Autoscaler: None}
	if err := o.CheckPools(true); err != nil {
		t.Errorf("none with pools: %v", err)
	}
}
