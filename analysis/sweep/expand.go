package sweep

import (
	"fmt"
	"strconv"
	"strings"
)

// Values are the axis values of one combination; an axis the matrix does not vary is absent.
type Values struct {
	SchedulerConfig *string  `json:"schedulerConfig,omitempty"`
	Nodes           *string  `json:"nodes,omitempty"`
	ReplicaScale    *float64 `json:"replicaScale,omitempty"`
	Seed            *uint64  `json:"seed,omitempty"`
	// Autoscaler is the autoscaler axis value's label: karpenter,
	// cluster-autoscaler[scale-down-unneeded-time=2m].
	Autoscaler *string `json:"autoscaler,omitempty"`
	// FeatureGates is the featureGates axis value's label: OpportunisticBatching=true, or
	// (defaults) for {}.
	FeatureGates *string `json:"featureGates,omitempty"`
}

// Combination is one simulation of the sweep.
type Combination struct {
	// Index is the combination's place in the product of the axes, from 0, the last axis
	// varying fastest.
	Index int
	// Label names the axis values, as written in the matrix:
	// "schedulerConfig=most-allocated.yaml nodes=node.yaml×10 replicaScale=2.5 seed=3".
	Label  string
	Values Values
	// Args is the command line of the `kwoksim run` that simulates it (without an output
	// format), paths joined to the matrix file's directory.
	Args []string
}

// axis is one varied dimension: how many values, and the label of each.
type axis struct {
	name  string
	n     int
	label func(i int) string
}

// axes lists the axes the matrix gives, in product order.
func (m *Matrix) axes() []axis {
	var out []axis
	if a := m.Axes.SchedulerConfig; len(a) > 0 {
		out = append(out, axis{"schedulerConfig", len(a), func(i int) string { return configLabel(a[i]) }})
	}
	if a := m.Axes.Nodes; len(a) > 0 {
		out = append(out, axis{"nodes", len(a), func(i int) string { return a[i].label() }})
	}
	if a := m.Axes.ReplicaScale; len(a) > 0 {
		out = append(out, axis{"replicaScale", len(a), func(i int) string { return formatScale(a[i]) }})
	}
	if a := m.Axes.Seed; len(a) > 0 {
		out = append(out, axis{"seed", len(a), func(i int) string { return strconv.FormatUint(a[i], 10) }})
	}
	if a := m.Axes.Autoscaler; len(a) > 0 {
		out = append(out, axis{"autoscaler", len(a), func(i int) string { return a[i].label() }})
	}
	if a := m.Axes.FeatureGates; len(a) > 0 {
		out = append(out, axis{"featureGates", len(a), func(i int) string { return gatesLabel(a[i]) }})
	}
	return out
}

// configLabel names a scheduler configuration; "" is kube-scheduler's defaults.
func configLabel(path string) string {
	if path == "" {
		return "(defaults)"
	}
	return path
}

func (ns NodeSet) label() string {
	parts := append([]string(nil), ns.Files...)
	if ns.Template != "" {
		parts = append(parts, fmt.Sprintf("%s×%d", ns.Template, *ns.Count))
	}
	return strings.Join(parts, "+")
}

// formatScale is the shortest decimal form, as on the command line: 1, 2.5.
func formatScale(s float64) string { return strconv.FormatFloat(s, 'g', -1, 64) }

// Combinations expands the matrix into its runs, in index order.
func (m *Matrix) Combinations() []Combination {
	axes := m.axes()
	n := m.Len()
	out := make([]Combination, n)
	for idx := range out {
		// Mixed-radix digits of idx, the last axis least significant.
		digits := make([]int, len(axes))
		rest := idx
		for a := len(axes) - 1; a >= 0; a-- {
			digits[a] = rest % axes[a].n
			rest /= axes[a].n
		}
		out[idx] = m.combination(idx, axes, digits)
	}
	return out
}

// Combination returns combination i; ok is false when there is none.
func (m *Matrix) Combination(i int) (Combination, bool) {
	if i < 0 || i >= m.Len() {
		return Combination{}, false
	}
	return m.Combinations()[i], true
}

func (m *Matrix) combination(idx int, axes []axis, digits []int) Combination {
	c := Combination{Index: idx}
	var labels []string
	schedConfig, seed, scale := m.Base.SchedulerConfig, m.Base.Seed, m.Base.ReplicaScale
	var nodes *NodeSet
	autoscaler := AutoscalerSetting{Autoscaler: m.Base.Autoscaler}
	gates := m.Base.FeatureGates
	for a, ax := range axes {
		i := digits[a]
		labels = append(labels, ax.name+"="+ax.label(i))
		switch ax.name {
		case "schedulerConfig":
			schedConfig = m.Axes.SchedulerConfig[i]
			c.Values.SchedulerConfig = &m.Axes.SchedulerConfig[i]
		case "nodes":
			nodes = &m.Axes.Nodes[i]
			l := nodes.label()
			c.Values.Nodes = &l
		case "replicaScale":
			scale = &m.Axes.ReplicaScale[i]
			c.Values.ReplicaScale = scale
		case "seed":
			seed = &m.Axes.Seed[i]
			c.Values.Seed = seed
		case "autoscaler":
			autoscaler = m.Axes.Autoscaler[i]
			l := autoscaler.label()
			c.Values.Autoscaler = &l
		case "featureGates":
			gates = m.withBase(m.Axes.FeatureGates[i])
			l := gatesLabel(m.Axes.FeatureGates[i])
			c.Values.FeatureGates = &l
		}
	}
	c.Label = strings.Join(labels, " ")

	args := []string{"run"}
	add := func(flag string, paths []string) {
		for _, p := range paths {
			args = append(args, flag, m.resolve(p))
		}
	}
	add("--nodes", m.Base.Nodes)
	if nodes != nil {
		add("--nodes", nodes.Files)
		if nodes.Template != "" {
			args = append(args, "--node-template", m.resolve(nodes.Template), "--template-nodes", strconv.Itoa(*nodes.Count))
		}
	}
	add("--workload", m.Base.Workload)
	add("--trace", m.Base.Trace)
	add("--stages", m.Base.Stages)
	if schedConfig != "" {
		args = append(args, "--scheduler-config", m.resolve(schedConfig))
	}
	if m.Base.Until != "" {
		args = append(args, "--until", m.Base.Until)
	}
	if seed != nil {
		args = append(args, "--seed", strconv.FormatUint(*seed, 10))
	}
	if scale != nil {
		args = append(args, "--scale-replicas", formatScale(*scale))
	}
	args = append(args, gateArgs(gates, m.Base.DisableAdmissionPlugins)...)
	if m.Base.ArrivalsOnly {
		args = append(args, "--arrivals-only")
	}
	if n := m.Base.UntilUnschedulable; n > 0 {
		args = append(args, "--until-unschedulable", strconv.Itoa(n))
	}
	args = append(args, autoscalerArgs(autoscaler.Autoscaler, append(append([]string(nil), m.Base.AutoscalerFlags...), autoscaler.Flags...))...)
	c.Args = args
	return c
}

// What an input must hold: the kinds of Input.
const (
	InputNodes           = "nodes"
	InputNodeTemplate    = "template"
	InputWorkload        = "workload"
	InputTrace           = "trace"
	InputStages          = "stages"
	InputSchedulerConfig = "schedulerConfig"
)

// Input is one file or directory the matrix refers to.
type Input struct {
	// Field is where the matrix names it (base.workload[0], matrix.nodes[1].template).
	Field string
	// Kind is what it must hold: one of the Input* constants.
	Kind string
	// Path is as written; Resolved is joined to the matrix file's directory.
	Path, Resolved string
	path           []any
}

// Inputs lists every path the matrix refers to, in file order; kwoksim loads each once
// before any run, so that a bad input fails once, up front.
func (m *Matrix) Inputs() []Input {
	var out []Input
	add := func(kind, p string, path ...any) {
		if p == "" {
			return
		}
		out = append(out, Input{Field: fieldPath(path...), Kind: kind, Path: p, Resolved: m.resolve(p), path: path})
	}
	for i, p := range m.Base.Nodes {
		add(InputNodes, p, "base", "nodes", i)
	}
	for i, p := range m.Base.Workload {
		add(InputWorkload, p, "base", "workload", i)
	}
	for i, p := range m.Base.Trace {
		add(InputTrace, p, "base", "trace", i)
	}
	for i, p := range m.Base.Stages {
		add(InputStages, p, "base", "stages", i)
	}
	add(InputSchedulerConfig, m.Base.SchedulerConfig, "base", "schedulerConfig")
	for i, p := range m.Axes.SchedulerConfig {
		add(InputSchedulerConfig, p, "matrix", "schedulerConfig", i)
	}
	for i, ns := range m.Axes.Nodes {
		for j, p := range ns.Files {
			add(InputNodes, p, "matrix", "nodes", i, "files", j)
		}
		add(InputNodeTemplate, ns.Template, "matrix", "nodes", i, "template")
	}
	return out
}

// InputError is an input that does not load, named by the matrix field that refers to it.
func (m *Matrix) InputError(in Input, err error) error {
	return m.fail(err.Error(), in.path...)
}

// ReplicaScale is one replica scale the matrix gives, with where it gives it.
type ReplicaScale struct {
	Value float64
	Path  []any
}

// ReplicaScales lists the replica scales of the base and of the axis.
func (m *Matrix) ReplicaScales() []ReplicaScale {
	var out []ReplicaScale
	if m.Base.ReplicaScale != nil {
		out = append(out, ReplicaScale{*m.Base.ReplicaScale, []any{"base", "replicaScale"}})
	}
	for i, s := range m.Axes.ReplicaScale {
		out = append(out, ReplicaScale{s, []any{"matrix", "replicaScale", i}})
	}
	return out
}

// Fail is an error at a field of the matrix, given as keys and indexes, with its line.
func (m *Matrix) Fail(msg string, path ...any) error { return m.fail(msg, path...) }
