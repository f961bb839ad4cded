package sweep

// Field paths and lines: the matrix is decoded from a YAML node tree, which is what lets every
// error name the field (matrix.nodes[1].count) and its line, and lets --emit-job rewrite paths
// in a copy that keeps the file's comments.

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

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
			// A mapping whose keys are not fields (base.featureGates names gates) has no
			// entry in known, and is left to decoding.
			child := "-"
			switch {
			case kind == "":
				child = k.Value
			case kind == "matrix" && k.Value == "nodes":
				child = "nodes[]"
			case kind == "matrix" && k.Value == "autoscaler":
				child = "autoscaler[]"
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

var (
	yamlLine        = regexp.MustCompile(`^line (\d+): (.*)$`)
	yamlSyntaxError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

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
	if g := yamlSyntaxError.FindStringSubmatch(msg); g != nil {
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
