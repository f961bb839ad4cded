package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

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
}

// Axes are the variations; each one given must hold at least one value. Combinations are
// their cartesian product in this order, the last varying fastest.
type Axes struct {
	SchedulerConfig []string  `yaml:"schedulerConfig"`
	Nodes           []NodeSet `yaml:"nodes"`
	ReplicaScale    []float64 `yaml:"replicaScale"`
	Seed            []uint64  `yaml:"seed"`
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

// known lists the fields of each mapping in the file: strict decoding, with the field path
// and line of an unknown one.
var known = map[string][]string{
	"":        {"apiVersion", "kind", "base", "matrix"},
	"base":    {"nodes", "workload", "trace", "stages", "schedulerConfig", "until", "seed", "replicaScale"},
	"matrix":  {"schedulerConfig", "nodes", "replicaScale", "seed"},
	"nodes[]": {"files", "template", "count"},
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

// checkFields rejects unknown fields, naming the field path and line.
func (m *Matrix) checkFields(n *yaml.Node, kind, path string) error {
	switch n.Kind {
	case yaml.MappingNode:
		allowed, ok := known[kind]
		if !ok {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			field := join(path, k.Value)
			if !contains(allowed, k.Value) {
				return &Error{File: m.File, Line: k.Line, Field: field, Msg: "unknown field; expected one of " + strings.Join(allowed, ", ")}
			}
			child := ""
			switch {
			case kind == "":
				child = k.Value
			case kind == "matrix" && k.Value == "nodes":
				child = "nodes[]"
			}
			if err := m.checkFields(v, child, field); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := m.checkFields(c, kind, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlError turns the YAML library's error into one naming the file, line and field path.
func (m *Matrix) yamlError(err error, field string) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if g := yamlLine.FindStringSubmatch(msg); g != nil {
			line, _ := strconv.Atoi(g[1])
			return &Error{File: m.File, Line: line, Field: m.fieldAt(line), Msg: g[2]}
		}
		return &Error{File: m.File, Field: field, Msg: msg}
	}
	msg := err.Error()
	if g := regexp.MustCompile(`^yaml: line (\d+): (.*)$`).FindStringSubmatch(msg); g != nil {
		line, _ := strconv.Atoi(g[1])
		return &Error{File: m.File, Line: line, Msg: "yaml: " + g[2]}
	}
	return &Error{File: m.File, Field: field, Msg: msg}
}

// fieldAt is the path of the last value that starts on line: what a decoding error there is
// about.
func (m *Matrix) fieldAt(line int) string {
	found := ""
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n.Line == line && path != "" {
			found = path
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], join(path, n.Content[i].Value))
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	if m.root != nil {
		walk(m.root, "")
	}
	return found
}

// node finds the value at a field path given as keys and indexes; nil when absent.
func (m *Matrix) node(path ...any) *yaml.Node {
	n := m.root
	for _, p := range path {
		if n == nil {
			return nil
		}
		switch p := p.(type) {
		case string:
			var next *yaml.Node
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						next = n.Content[i+1]
					}
				}
			}
			n = next
		case int:
			if n.Kind != yaml.SequenceNode || p >= len(n.Content) {
				return nil
			}
			n = n.Content[p]
		}
	}
	return n
}

// fail is an error at a field path ("matrix", "seed", 2 → matrix.seed[2]), with its line.
func (m *Matrix) fail(msg string, path ...any) *Error {
	e := &Error{File: m.File, Field: fieldPath(path...), Msg: msg}
	// The line of the field, or of the nearest enclosing one the file has.
	for k := len(path); k > 0 && e.Line == 0; k-- {
		if n := m.node(path[:k]...); n != nil {
			e.Line = n.Line
		}
	}
	return e
}

func fieldPath(path ...any) string {
	s := ""
	for _, p := range path {
		switch p := p.(type) {
		case string:
			s = join(s, p)
		case int:
			s += fmt.Sprintf("[%d]", p)
		}
	}
	return s
}

// validate checks what decoding cannot: the header, empty axes, values out of range,
// duplicates, and that every combination has nodes.
func (m *Matrix) validate() error {
	if m.APIVersion != APIVersion || m.Kind != MatrixKind {
		return m.fail(fmt.Sprintf("expected apiVersion %s and kind %s, got %q and %q", APIVersion, MatrixKind, m.APIVersion, m.Kind), "kind")
	}
	if m.node("matrix") == nil {
		return m.fail("missing: a sweep needs at least one axis (schedulerConfig, nodes, replicaScale or seed)", "matrix")
	}
	if m.axisCount() == 0 {
		return m.fail("no axis given; expected at least one of schedulerConfig, nodes, replicaScale, seed", "matrix")
	}
	for _, f := range []struct {
		base, axis bool
		name       string
	}{
		{m.node("base", "schedulerConfig") != nil, len(m.Axes.SchedulerConfig) > 0, "schedulerConfig"},
		{m.Base.Seed != nil, len(m.Axes.Seed) > 0, "seed"},
		{m.Base.ReplicaScale != nil, len(m.Axes.ReplicaScale) > 0, "replicaScale"},
	} {
		if f.base && f.axis {
			return m.fail("given in base and as an axis of matrix; give it in one place", "base", f.name)
		}
	}
	if m.Base.Until != "" {
		d, err := time.ParseDuration(m.Base.Until)
		if err != nil || d < 0 {
			return m.fail(fmt.Sprintf("expected a non-negative duration such as 90s or 24h, got %q", m.Base.Until), "base", "until")
		}
	}
	if s := m.Base.ReplicaScale; s != nil && !validScale(*s) {
		return m.fail(fmt.Sprintf("expected a positive number, got %v", *s), "base", "replicaScale")
	}
	for i, s := range m.Axes.ReplicaScale {
		if !validScale(s) {
			return m.fail(fmt.Sprintf("expected a positive number, got %v", s), "matrix", "replicaScale", i)
		}
	}
	for i, ns := range m.Axes.Nodes {
		if ns.Count != nil && ns.Template == "" {
			return m.fail("a count needs a template", "matrix", "nodes", i, "count")
		}
		if len(ns.Files) == 0 && ns.Template == "" {
			return m.fail("expected files, or a template and a count", "matrix", "nodes", i)
		}
		if ns.Template != "" && ns.Count == nil {
			return m.fail("a template needs a count", "matrix", "nodes", i, "template")
		}
		if ns.Count != nil && *ns.Count < 0 {
			return m.fail(fmt.Sprintf("must not be negative, got %d", *ns.Count), "matrix", "nodes", i, "count")
		}
	}
	if len(m.Base.Nodes) == 0 && len(m.Axes.Nodes) == 0 {
		return m.fail("no nodes: give base.nodes or a matrix.nodes axis", "base", "nodes")
	}
	for _, field := range []struct {
		name string
		list []string
	}{{"nodes", m.Base.Nodes}, {"workload", m.Base.Workload}, {"trace", m.Base.Trace}, {"stages", m.Base.Stages}} {
		for i, p := range field.list {
			if p == "" {
				return m.fail("an empty path", "base", field.name, i)
			}
		}
	}
	for i, ns := range m.Axes.Nodes {
		for j, p := range ns.Files {
			if p == "" {
				return m.fail("an empty path", "matrix", "nodes", i, "files", j)
			}
		}
	}
	if err := m.checkDuplicates(); err != nil {
		return err
	}
	if n := m.Len(); n > MaxCombinations {
		return m.fail(fmt.Sprintf("%d combinations, more than the limit of %d", n, MaxCombinations), "matrix")
	}
	return nil
}

func validScale(s float64) bool { return s > 0 && !math.IsInf(s, 0) && !math.IsNaN(s) }

// checkDuplicates rejects an axis value given twice: its combinations would be run twice.
func (m *Matrix) checkDuplicates() error {
	for _, axis := range m.axes() {
		seen := map[string]int{}
		for i := 0; i < axis.n; i++ {
			v := axis.label(i)
			if j, ok := seen[v]; ok {
				return m.fail(fmt.Sprintf("the same value as matrix.%s[%d]", axis.name, j), "matrix", axis.name, i)
			}
			seen[v] = i
		}
	}
	return nil
}

func (m *Matrix) axisCount() int { return len(m.axes()) }

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
