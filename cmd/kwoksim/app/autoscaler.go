package app

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kwoksim/kwoksim/autoscaling"
)

// autoscalerFlags are --autoscaler and --autoscaler-flag: which node autoscaler acts on the
// inputs' NodePools and its settings, each NAME=VALUE named as the real flag. Parsing and
// checks live in package autoscaling; a flag's syntax and value are checked as it is parsed,
// whether it suits the autoscaler once the inputs are read (the default depends on them).
type autoscalerFlags struct {
	autoscaler string
	flags      autoscalerFlagValue
}

func (f *autoscalerFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.autoscaler, "autoscaler", "", fmt.Sprintf("the node autoscaler acting on the NodePools (kwoksim/v1alpha1) of --workload and -f: %s, %s or %s;\n"+
		"default: %s when the inputs have NodePools (the report says so), else %s", autoscaling.None, autoscaling.ClusterAutoscaler,
		autoscaling.Karpenter, autoscaling.ClusterAutoscaler, autoscaling.None))
	fl.Var(&f.flags, "autoscaler-flag", "a flag of the node autoscaler as NAME=VALUE, e.g. --autoscaler-flag scale-down-unneeded-time=5m; repeatable.\n"+
		"Modelled, with their defaults:\n"+modelledAutoscalerFlags())
}

func modelledAutoscalerFlags() string {
	var lines []string
	for _, c := range []string{autoscaling.ClusterAutoscaler, autoscaling.Karpenter} {
		lines = append(lines, "  "+c+":")
		for _, f := range autoscaling.ComponentFlags(c) {
			lines = append(lines, fmt.Sprintf("    %s=%s: %s", f.Name, f.Default(), f.Help))
		}
	}
	return strings.Join(lines, "\n")
}

// check rejects an unknown --autoscaler before any input is read.
func (f *autoscalerFlags) check() error {
	switch f.autoscaler {
	case "", autoscaling.None, autoscaling.ClusterAutoscaler, autoscaling.Karpenter:
		return nil
	}
	return usageError{fmt.Errorf("--autoscaler must be %s, %s or %s, not %q", autoscaling.None, autoscaling.ClusterAutoscaler, autoscaling.Karpenter, f.autoscaler)}
}

// options are the run's autoscaling settings once the inputs are read: the autoscaler
// resolved (with the note the report carries when kwoksim chose it), the flags applied and
// the whole validated. A bad combination is bad input.
func (f *autoscalerFlags) options(havePools bool) (autoscaling.Options, string, error) {
	if err := f.check(); err != nil {
		return autoscaling.Options{}, "", err
	}
	o := autoscaling.DefaultOptions()
	o.Autoscaler = f.autoscaler
	note := o.Resolve(havePools)
	if err := o.CheckPools(havePools); err != nil {
		return autoscaling.Options{}, "", usageError{err}
	}
	if err := o.ApplyFlags(f.flags.given); err != nil {
		if note != "" {
			err = fmt.Errorf("%w (%s)", err, note)
		}
		return autoscaling.Options{}, "", usageError{err}
	}
	if err := o.Validate(); err != nil {
		return autoscaling.Options{}, "", usageError{err}
	}
	return o, note, nil
}

// autoscalerFlagValue is --autoscaler-flag: each value is checked on its own as it is parsed
// and kept as given, so that a plan can forward it to its runs (pflag.SliceValue).
type autoscalerFlagValue struct{ given []string }

var (
	_ pflag.Value      = (*autoscalerFlagValue)(nil)
	_ pflag.SliceValue = (*autoscalerFlagValue)(nil)
)

func (v *autoscalerFlagValue) Set(s string) error {
	scratch := autoscaling.DefaultOptions()
	if _, err := scratch.Set(s); err != nil {
		return err
	}
	v.given = append(v.given, s)
	return nil
}

func (v *autoscalerFlagValue) Type() string { return "NAME=VALUE" }

// String is empty when the flag is not given, so that help prints no default.
func (v *autoscalerFlagValue) String() string {
	if len(v.given) == 0 {
		return ""
	}
	return "[" + strings.Join(v.given, ",") + "]"
}

func (v *autoscalerFlagValue) Append(s string) error { return v.Set(s) }

func (v *autoscalerFlagValue) Replace(ss []string) error {
	v.given = nil
	for _, s := range ss {
		if err := v.Set(s); err != nil {
			return err
		}
	}
	return nil
}

func (v *autoscalerFlagValue) GetSlice() []string { return append([]string(nil), v.given...) }
