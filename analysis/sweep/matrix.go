package sweep

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// APIVersion and MatrixKind identify a sweep matrix file.
const (
	APIVersion = "kwoksim/v1alpha1"
	MatrixKind = "Sweep"
)

// MaxCombinations bounds the product of the axes: a typo (a seed list of 10,000) should fail
// up front, not start a week of simulations.
const MaxCombinations = 10000

// Matrix is a sweep file: what every run shares (Base) and the axes it varies (Axes). Paths
// are as written; Resolve joins them to the matrix file's directory.
type Matrix struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Base       Base   `yaml:"base"`
	Axes       Axes   `yaml:"matrix"`

	// File is the matrix file's path as given; dir is its directory, the base of relative paths.
	File string `yaml:"-"`
	dir  string
	root *yaml.Node // the document, for line numbers and for rewriting paths
}

// Base holds the flags of `kwoksim run` that every combination shares.
type Base struct {
	Nodes           []string `yaml:"nodes"`
	Workload        []string `yaml:"workload"`
	Trace           []string `yaml:"trace"`
	Stages          []string `yaml:"stages"`
	SchedulerConfig string   `yaml:"schedulerConfig"`
	Until           string   `yaml:"until"`
	Seed            *uint64  `yaml:"seed"`
	ReplicaScale    *float64 `yaml:"replicaScale"`
	// Autoscaler and AutoscalerFlags are run's --autoscaler and --autoscaler-flag; the flags
	// come before those of an autoscaler axis value.
	Autoscaler      string   `yaml:"autoscaler"`
	AutoscalerFlags []string `yaml:"autoscalerFlags"`
	// FeatureGates and DisableAdmissionPlugins are run's --feature-gates (gate name to
	// setting) and --disable-admission-plugins; an axis's gates are added to these.
	FeatureGates            map[string]bool `yaml:"featureGates"`
	DisableAdmissionPlugins []string        `yaml:"disableAdmissionPlugins"`
	// ArrivalsOnly and UntilUnschedulable are run's --arrivals-only and --until-unschedulable
	// (0: off): the packing studies' replay of base.trace, compared across the axes.
	ArrivalsOnly       bool `yaml:"arrivalsOnly"`
	UntilUnschedulable int  `yaml:"untilUnschedulable"`
}

// Axes are the variations; each one given must hold at least one value. Combinations are
// their cartesian product in this order, the last varying fastest.
type Axes struct {
	SchedulerConfig []string  `yaml:"schedulerConfig"`
	Nodes           []NodeSet `yaml:"nodes"`
	ReplicaScale    []float64 `yaml:"replicaScale"`
	Seed            []uint64  `yaml:"seed"`
	// Autoscaler compares node autoscalers (and their flags) on the same inputs, e.g.
	// cluster-autoscaler against karpenter.
	Autoscaler []AutoscalerSetting `yaml:"autoscaler"`
	// FeatureGates compares scheduler feature gates on the same inputs, e.g.
	// OpportunisticBatching off (kwoksim's default) and on: each value is a set of gates added
	// to base.featureGates, {} adding none.
	FeatureGates []map[string]bool `yaml:"featureGates"`
}

// NodeSet is one value of the nodes axis: node files, Count copies of a one-Node template, or
// both; added to Base.Nodes.
type NodeSet struct {
	Files    []string `yaml:"files"`
	Template string   `yaml:"template"`
	Count    *int     `yaml:"count"`
}

// Error is a problem with the matrix file, at a field.
type Error struct {
	File  string
	Line  int // 0 when unknown
	Field string
	Msg   string
}

func (e *Error) Error() string {
	where := e.File
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		where += ": " + e.Field
	}
	return where + ": " + e.Msg
}

// BadInput marks the error as bad input (kwoksim exits 2).
func (*Error) BadInput() {}

// known lists the fields of each mapping in the file: strict decoding, with the field path
// and line of an unknown one.
var known = map[string][]string{
	"": {"apiVersion", "kind", "base", "matrix"},
	"base": {"nodes", "workload", "trace", "stages", "schedulerConfig", "until", "seed", "replicaScale", "autoscaler", "autoscalerFlags", "featureGates", "disableAdmissionPlugins",
		"arrivalsOnly", "untilUnschedulable"},
	"matrix":       {"schedulerConfig", "nodes", "replicaScale", "seed", "autoscaler", "featureGates"},
	"nodes[]":      {"files", "template", "count"},
	"autoscaler[]": {"autoscaler", "flags"},
}

// Load reads and validates a matrix file. Input files are not read here: the caller loads
// each one (Inputs) with the loaders `kwoksim run` uses.
func Load(path string) (*Matrix, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the message
		}
		return nil, &Error{File: path, Msg: err.Error()}
	}
	return Parse(path, data)
}

// Parse decodes and validates a matrix given its path (for messages and relative paths).
func Parse(path string, data []byte) (*Matrix, error) {
	m := &Matrix{File: path, dir: filepath.Dir(path)}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, m.yamlError(err, "")
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: path, Line: extra.Line, Msg: "a sweep file holds one YAML document, found a second"}
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: path, Line: doc.Line, Msg: "expected a mapping with apiVersion, kind, base and matrix"}
	}
	m.root = doc.Content[0]
	if err := m.checkFields(m.root, "", ""); err != nil {
		return nil, err
	}
	// Checked before decoding, which would only say that a number is not a list.
	for _, axis := range known["matrix"] {
		if n := m.node("matrix", axis); n != nil && (n.Kind != yaml.SequenceNode || len(n.Content) == 0) {
			return nil, m.fail("an axis must be a list of at least one value", "matrix", axis)
		}
	}
	if err := m.root.Decode(m); err != nil {
		return nil, m.yamlError(err, "")
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Len is the number of combinations.
func (m *Matrix) Len() int {
	n := 1
	for _, a := range m.axes() {
		n *= a.n
		if n > MaxCombinations {
			return n
		}
	}
	return n
}

// resolve makes a path relative to the matrix file usable from the working directory.
func (m *Matrix) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(m.dir, p)
}
