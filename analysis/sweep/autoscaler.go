package sweep

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
)

// AutoscalerSetting is one value of the autoscaler axis: which node autoscaler the run models
// (`kwoksim run --autoscaler`) and its flags (`--autoscaler-flag NAME=VALUE`, after
// base.autoscalerFlags). In the file it is either the name alone or a mapping:
//
//	autoscaler:
//	- karpenter
//	- {autoscaler: cluster-autoscaler, flags: [scale-down-unneeded-time=2m]}
type AutoscalerSetting struct {
	Autoscaler string   `yaml:"autoscaler"`
	Flags      []string `yaml:"flags"`
}

// UnmarshalYAML takes the name alone as a setting without flags.
func (s *AutoscalerSetting) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&s.Autoscaler)
	}
	type plain AutoscalerSetting // without this method
	return n.Decode((*plain)(s))
}

// label is the name, and the flags in brackets when there are any:
// cluster-autoscaler[scale-down-unneeded-time=2m;expander=price,random].
func (s AutoscalerSetting) label() string {
	if len(s.Flags) == 0 {
		return s.Autoscaler
	}
	return s.Autoscaler + "[" + strings.Join(s.Flags, ";") + "]"
}

// autoscalerArgs are the run's flags for an autoscaler and its flags.
func autoscalerArgs(name string, flags []string) []string {
	var args []string
	if name != "" {
		args = append(args, "--autoscaler", name)
	}
	for _, f := range flags {
		args = append(args, "--autoscaler-flag", f)
	}
	return args
}

// validateAutoscaler checks base.autoscaler, base.autoscalerFlags and the axis as `kwoksim
// run` would check each combination's flags (package autoscaling): names, flag syntax and
// values, and that each flag belongs to the combination's autoscaler when it is named.
// Whether the inputs have NodePools for it is checked with the inputs (CheckAutoscalerPools).
func (m *Matrix) validateAutoscaler() error {
	if m.Base.Autoscaler != "" && len(m.Axes.Autoscaler) > 0 {
		return m.fail("given in base and as an axis of matrix; give it in one place", "base", "autoscaler")
	}
	if err := checkAutoscalerName(m.Base.Autoscaler, true); err != nil {
		return m.fail(err.Error(), "base", "autoscaler")
	}
	for i, f := range m.Base.AutoscalerFlags {
		o := autoscaling.DefaultOptions()
		if _, err := o.Set(f); err != nil {
			return m.fail(err.Error(), "base", "autoscalerFlags", i)
		}
	}
	if len(m.Axes.Autoscaler) == 0 {
		if m.Base.Autoscaler != "" {
			return m.checkSetting(AutoscalerSetting{Autoscaler: m.Base.Autoscaler}, "base", "autoscalerFlags")
		}
		return nil
	}
	for i, s := range m.Axes.Autoscaler {
		if err := checkAutoscalerName(s.Autoscaler, false); err != nil {
			return m.fail(err.Error(), "matrix", "autoscaler", i)
		}
		if err := m.checkSetting(s, "matrix", "autoscaler", i); err != nil {
			return err
		}
	}
	return nil
}

// checkSetting applies base.autoscalerFlags then the setting's flags, as the run would.
func (m *Matrix) checkSetting(s AutoscalerSetting, path ...any) error {
	o := autoscaling.DefaultOptions()
	o.Autoscaler = s.Autoscaler
	if err := o.ApplyFlags(append(append([]string(nil), m.Base.AutoscalerFlags...), s.Flags...)); err != nil {
		return m.fail(err.Error(), path...)
	}
	if err := o.Validate(); err != nil {
		return m.fail(err.Error(), path...)
	}
	return nil
}

func checkAutoscalerName(name string, emptyOK bool) error {
	switch name {
	case autoscaling.None, autoscaling.ClusterAutoscaler, autoscaling.Karpenter:
		return nil
	case "":
		if emptyOK {
			return nil
		}
	}
	return fmt.Errorf("expected %s, %s or %s, got %q", autoscaling.None, autoscaling.ClusterAutoscaler, autoscaling.Karpenter, name)
}

// CheckAutoscalerPools checks each combination's autoscaler against the inputs, as `kwoksim
// run` would: an autoscaler named with no NodePool to scale is refused, and an unnamed one is
// resolved (cluster-autoscaler with pools, none without) before base.autoscalerFlags are
// checked against it.
func (m *Matrix) CheckAutoscalerPools(havePools bool) error {
	check := func(s AutoscalerSetting, path ...any) error {
		o := autoscaling.DefaultOptions()
		o.Autoscaler = s.Autoscaler
		note := o.Resolve(havePools)
		if err := o.CheckPools(havePools); err != nil {
			return m.fail(err.Error(), path...)
		}
		if err := o.ApplyFlags(append(append([]string(nil), m.Base.AutoscalerFlags...), s.Flags...)); err != nil {
			if note != "" {
				err = fmt.Errorf("%w (%s)", err, note)
			}
			return m.fail(err.Error(), path...)
		}
		return nil
	}
	if len(m.Axes.Autoscaler) == 0 {
		path := []any{"base", "autoscaler"}
		if m.Base.Autoscaler == "" {
			path = []any{"base", "autoscalerFlags"}
		}
		return check(AutoscalerSetting{Autoscaler: m.Base.Autoscaler}, path...)
	}
	for i, s := range m.Axes.Autoscaler {
		if err := check(s, "matrix", "autoscaler", i); err != nil {
			return err
		}
	}
	return nil
}

// AutoscalingFigures are the key figures of a report's autoscaling section.
type AutoscalingFigures struct {
	Autoscaler string  `json:"autoscaler"`
	Cost       float64 `json:"cost"`
	NodeHours  float64 `json:"nodeHours"`
	PeakNodes  int     `json:"peakNodes"`
	// CapacityWait is how long pods waited for capacity, in seconds (the section's
	// capacityWait: created → bound over the pods found unschedulable at least once).
	CapacityWait analysis.Distribution `json:"capacityWait"`
}

// autoscalingFigures are nil for a report without the section (no autoscaler).
func autoscalingFigures(r *analysis.Report) *AutoscalingFigures {
	a := r.Autoscaling
	if a == nil {
		return nil
	}
	return &AutoscalingFigures{Autoscaler: a.Autoscaler, Cost: a.Cost, NodeHours: a.NodeHours, PeakNodes: a.PeakNodes, CapacityWait: a.CapacityWait}
}

// HasAutoscaling is true when any combination varies the autoscaler or reports its figures:
// the table and the CSV then add their columns (and only then, so a sweep without one reads
// as before).
func (res *Result) HasAutoscaling() bool {
	for _, r := range res.Combinations {
		if r.Values.Autoscaler != nil || (r.Figures != nil && r.Autoscaling != nil) {
			return true
		}
	}
	return false
}

// The table's autoscaling columns.
const (
	autoscalingHeads   = "\tAUTOSCALER\tCOST\tNODE-HOURS\tPEAK NODES\tWAIT P50\tWAIT P99"
	autoscalingColumns = 6
)

func writeAutoscalingCells(w io.Writer, a *AutoscalingFigures) {
	if a == nil {
		fmt.Fprint(w, strings.Repeat("\t-", autoscalingColumns))
		return
	}
	fmt.Fprintf(w, "\t%s\t%.2f\t%.1f\t%d\t%s\t%s", a.Autoscaler, a.Cost, a.NodeHours, a.PeakNodes,
		analysis.FormatSeconds(a.CapacityWait.P50), analysis.FormatSeconds(a.CapacityWait.P99))
}

// autoscalingCSVHeader are the CSV's autoscaling columns: the axis value, then the figures
// named by their paths in the JSON.
var autoscalingCSVHeader = []string{"autoscaler", "autoscaling.autoscaler", "autoscaling.cost", "autoscaling.nodeHours", "autoscaling.peakNodes",
	"autoscaling.capacityWait.p50", "autoscaling.capacityWait.p90", "autoscaling.capacityWait.p99"}

func autoscalingCSV(value *string, a *AutoscalingFigures) []string {
	rec := make([]string, len(autoscalingCSVHeader))
	if value != nil {
		rec[0] = *value
	}
	if a != nil {
		f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
		copy(rec[1:], []string{a.Autoscaler, f(a.Cost), f(a.NodeHours), strconv.Itoa(a.PeakNodes),
			f(a.CapacityWait.P50), f(a.CapacityWait.P90), f(a.CapacityWait.P99)})
	}
	return rec
}

// autoscaledEveryRun is true when every combination names an autoscaler other than none: its
// NodePools (checked with the inputs, CheckAutoscalerPools) then bring the nodes, and the
// matrix needs no node files.
func (m *Matrix) autoscaledEveryRun() bool {
	if len(m.Axes.Autoscaler) == 0 {
		return m.Base.Autoscaler == autoscaling.ClusterAutoscaler || m.Base.Autoscaler == autoscaling.Karpenter
	}
	for _, s := range m.Axes.Autoscaler {
		if s.Autoscaler == autoscaling.None {
			return false
		}
	}
	return true
}
