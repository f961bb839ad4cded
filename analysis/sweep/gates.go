package sweep

// The runs' feature gates and admission plugins: base.featureGates and
// base.disableAdmissionPlugins for every run, a featureGates axis to compare gates. Whether the
// simulator accepts a gate or a plugin is the sim package's to say, which this one may not
// import (docs/design.md, "Packages and layering"): kwoksim checks FeatureGateSets and
// Base.DisableAdmissionPlugins before any run. What is checked here is what the command line
// needs: names that come through run's NAME=BOOL,… and NAME,… syntax as written.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// gateNames are the gates of g, sorted: the order of the flag and of the label, so that
// neither depends on map order.
func gateNames(g map[string]bool) []string {
	names := make([]string, 0, len(g))
	for name := range g {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// gatesArg is g as run's --feature-gates takes it: OpportunisticBatching=true,Other=false.
func gatesArg(g map[string]bool) string {
	pairs := make([]string, 0, len(g))
	for _, name := range gateNames(g) {
		pairs = append(pairs, name+"="+strconv.FormatBool(g[name]))
	}
	return strings.Join(pairs, ",")
}

// gatesLabel names a value of the featureGates axis: its flag value, or "(defaults)" for {},
// which adds no gate to base.featureGates.
func gatesLabel(g map[string]bool) string {
	if len(g) == 0 {
		return "(defaults)"
	}
	return gatesArg(g)
}

// gateArgs are the run's flags for its gates and the admission plugins it turns off.
func gateArgs(gates map[string]bool, disabled []string) []string {
	var args []string
	if len(gates) > 0 {
		args = append(args, "--feature-gates", gatesArg(gates))
	}
	if len(disabled) > 0 {
		args = append(args, "--disable-admission-plugins", strings.Join(disabled, ","))
	}
	return args
}

// withBase is an axis value's gates added to base.featureGates: what its runs get.
func (m *Matrix) withBase(g map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m.Base.FeatureGates)+len(g))
	for name, on := range m.Base.FeatureGates {
		out[name] = on
	}
	for name, on := range g {
		out[name] = on
	}
	return out
}

// validateGates checks the names: a gate name holding ",", "=" or white space, or a plugin
// name holding "," or white space, would reach run as other names than written. A gate set
// both in base and in an axis value is refused, as a field given both in base and as an axis
// is: which one the runs get would not be visible in the file.
func (m *Matrix) validateGates() error {
	for _, name := range gateNames(m.Base.FeatureGates) {
		if err := checkGateName(name); err != nil {
			return m.fail(err.Error(), "base", "featureGates", name)
		}
	}
	for i, g := range m.Axes.FeatureGates {
		for _, name := range gateNames(g) {
			if err := checkGateName(name); err != nil {
				return m.fail(err.Error(), "matrix", "featureGates", i, name)
			}
			if _, ok := m.Base.FeatureGates[name]; ok {
				return m.fail("also set in base.featureGates; set each gate in one place", "matrix", "featureGates", i, name)
			}
		}
	}
	for i, p := range m.Base.DisableAdmissionPlugins {
		if p == "" || strings.ContainsAny(p, ", \t\n") {
			return m.fail(fmt.Sprintf("expected one admission plugin name per item, such as Priority, got %q", p), "base", "disableAdmissionPlugins", i)
		}
	}
	return nil
}

func checkGateName(name string) error {
	if name == "" || strings.ContainsAny(name, ",= \t\n") {
		return fmt.Errorf("expected a feature gate name such as OpportunisticBatching, got %q", name)
	}
	return nil
}

// GateSet is the feature gates of some of the sweep's runs, with where the matrix gives them:
// Field (matrix.featureGates[1]) for a message, Path for Fail.
type GateSet struct {
	Gates map[string]bool
	Field string
	Path  []any
}

// FeatureGateSets lists every set of gates the runs get, for kwoksim to check as run checks
// its --feature-gates, each named by its field: base.featureGates when given, then each value
// of the featureGates axis with base.featureGates added (a gate may need another set with it,
// so each set is checked whole).
func (m *Matrix) FeatureGateSets() []GateSet {
	var out []GateSet
	if len(m.Base.FeatureGates) > 0 {
		out = append(out, GateSet{m.Base.FeatureGates, "base.featureGates", []any{"base", "featureGates"}})
	}
	for i, g := range m.Axes.FeatureGates {
		path := []any{"matrix", "featureGates", i}
		out = append(out, GateSet{m.withBase(g), fieldPath(path...), path})
	}
	return out
}

// HasFeatureGates is true when any combination has a featureGates axis value: the CSV then
// adds its column (and only then, so a sweep without the axis reads as before).
func (res *Result) HasFeatureGates() bool {
	for _, r := range res.Combinations {
		if r.Values.FeatureGates != nil {
			return true
		}
	}
	return false
}
