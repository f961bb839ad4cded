package app

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kwoksim/kwoksim/controlplane"
)

// controlPlaneFlags are --kcm-flag and --apiserver-flag: the settings of the control plane
// components kwoksim models, each NAME=VALUE named as the real component's flag, checked as
// they are parsed (a bad one exits 2 naming it and what it expects).
type controlPlaneFlags struct {
	flags controlplane.Flags
	// pacing is --pacing: real (the clients' token buckets) or instant (none).
	pacing string
}

func newControlPlaneFlags() *controlPlaneFlags {
	return &controlPlaneFlags{flags: controlplane.Defaults(), pacing: pacingReal}
}

const (
	pacingReal    = "real"
	pacingInstant = "instant"
)

func (f *controlPlaneFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.pacing, "pacing", f.pacing, "pace of the control plane's writes: real paces each controller's pod creation by its client's token bucket\n"+
		"(--kcm-flag kube-api-qps=20, kube-api-burst=30) and slow-start batches, and the scheduler's bindings by its\n"+
		"clientConnection qps/burst (50/100); instant sends every write at once, whatever those say")
	for _, c := range []struct {
		flag      string
		component controlplane.Component
	}{{"kcm-flag", controlplane.KubeControllerManager}, {"apiserver-flag", controlplane.KubeAPIServer}} {
		v := &controlPlaneValue{component: c.component, flags: &f.flags}
		fl.Var(v, c.flag, fmt.Sprintf("a %s flag as NAME=VALUE, e.g. --%s %s; repeatable. Modelled, with their defaults:\n%s",
			c.component, c.flag, example(c.component), modelled(c.component)))
	}
}

func example(c controlplane.Component) string {
	if c == controlplane.KubeAPIServer {
		return "default-not-ready-toleration-seconds=60"
	}
	return "node-monitor-grace-period=40s"
}

func modelled(c controlplane.Component) string {
	var lines []string
	for _, f := range controlplane.All() {
		if f.Component == c {
			lines = append(lines, fmt.Sprintf("  %s=%s: %s", f.Name, f.Default(), f.Help))
		}
	}
	return strings.Join(lines, "\n")
}

// settings are the flags for sim.Config.ControlPlane, checked as a whole.
func (f *controlPlaneFlags) settings() (*controlplane.Flags, error) {
	if err := f.flags.Validate(); err != nil {
		return nil, usageError{err}
	}
	out := f.flags
	switch f.pacing {
	case pacingReal:
	case pacingInstant:
		out.KubeAPIQPS = -1 // no limiter, as client-go makes none for a QPS that is not positive
	default:
		return nil, usageError{fmt.Errorf("--pacing must be %s or %s, got %q", pacingReal, pacingInstant, f.pacing)}
	}
	return &out, nil
}

// unpacedScheduler is sim.Config.UnpacedScheduler: --pacing instant.
func (f *controlPlaneFlags) unpacedScheduler() bool { return f.pacing == pacingInstant }

// controlPlaneValue is one repeatable flag: each value is applied to the shared settings as
// it is parsed, and kept as given so that a plan can forward it to its runs
// (pflag.SliceValue).
type controlPlaneValue struct {
	component controlplane.Component
	flags     *controlplane.Flags
	given     []string
}

var (
	_ pflag.Value      = (*controlPlaneValue)(nil)
	_ pflag.SliceValue = (*controlPlaneValue)(nil)
)

func (v *controlPlaneValue) Set(s string) error {
	if err := v.flags.Set(v.component, s); err != nil {
		return err
	}
	v.given = append(v.given, s)
	return nil
}

func (v *controlPlaneValue) Type() string { return "NAME=VALUE" }

// String is empty when the flag is not given, so that help prints no default.
func (v *controlPlaneValue) String() string {
	if len(v.given) == 0 {
		return ""
	}
	return "[" + strings.Join(v.given, ",") + "]"
}

func (v *controlPlaneValue) Append(s string) error { return v.Set(s) }

func (v *controlPlaneValue) Replace(ss []string) error {
	v.given = nil
	for _, s := range ss {
		if err := v.Set(s); err != nil {
			return err
		}
	}
	return nil
}

func (v *controlPlaneValue) GetSlice() []string { return append([]string(nil), v.given...) }
