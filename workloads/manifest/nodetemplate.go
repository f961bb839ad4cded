package manifest

import (
	"fmt"
	"math"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// CostAnnotation on a node template is the cost of one such node, in whatever unit the user
// chooses; capacity plans multiply it by the nodes they add.
const CostAnnotation = "kwoksim.io/cost"

// hostnameLabel is the well-known label the scheduler's default topology spreading and
// anti-affinity key on; each copy of a template gets its own value, as a real node would.
const hostnameLabel = "kubernetes.io/hostname"

// NodeTemplate is a Node manifest used as the shape of nodes added in bulk: what-if runs
// ("these nodes plus N of that shape") and capacity plans search over the count.
type NodeTemplate struct {
	Node   *corev1.Node
	Source Source
	// Cost is the kwoksim.io/cost annotation: the cost of one node, nil if not annotated.
	Cost *float64
}

// Name is the template's name: its Node's metadata.name.
func (t *NodeTemplate) Name() string { return t.Node.Name }

// LoadNodeTemplate reads a file holding exactly one Node. Its name prefixes the copies'
// names, and a kwoksim.io/cost annotation, if present, must be a non-negative number.
func LoadNodeTemplate(path string, opts LoadOptions) (*NodeTemplate, error) {
	opts.Kinds = map[string]bool{"Node": true}
	objs, err := Load([]string{path}, opts)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, &LoadError{File: path, Msg: fmt.Sprintf("a node template must hold exactly one Node, found %d", len(objs))}
	}
	t := &NodeTemplate{Node: objs[0].Obj.(*corev1.Node), Source: objs[0].Source}
	fail := func(field, msg string) error {
		return &LoadError{File: t.Source.File, Line: t.Source.Line, Doc: t.Source.Doc, Msg: field + ": " + msg}
	}
	if t.Node.Name == "" {
		return nil, fail("metadata.name", "a node template needs a name: its copies are named <name>-0, <name>-1, …")
	}
	if t.Node.GenerateName != "" {
		return nil, fail("metadata.generateName", "not supported in a node template; copies are named <metadata.name>-<i>")
	}
	if s, ok := t.Node.Annotations[CostAnnotation]; ok {
		c, err := strconv.ParseFloat(s, 64)
		if err != nil || c < 0 || math.IsInf(c, 0) || math.IsNaN(c) {
			return nil, fail(fmt.Sprintf("metadata.annotations[%q]", CostAnnotation),
				fmt.Sprintf("the cost of one node must be a non-negative number, got %q", s))
		}
		t.Cost = &c
	}
	return t, nil
}

// Nodes returns n copies of the template named <name>-0 … <name>-(n-1), each with its own
// kubernetes.io/hostname label when the template carries one, and the template's source so
// that an error about a copy names the template file.
func (t *NodeTemplate) Nodes(n int) []Object {
	objs := make([]Object, n)
	for i := range objs {
		node := t.Node.DeepCopy()
		node.Name = fmt.Sprintf("%s-%d", t.Node.Name, i)
		if _, ok := node.Labels[hostnameLabel]; ok {
			node.Labels[hostnameLabel] = node.Name
		}
		objs[i] = Object{Obj: node, Source: t.Source}
	}
	return objs
}
