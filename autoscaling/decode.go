package autoscaling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// The wire form: what a user writes, decoded strictly. Quantities, prices and durations are
// kept raw so that a bad one is reported with its field path and what was expected.
type wirePool struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       wireSpec          `json:"spec"`
}

type wireSpec struct {
	Min          *int32           `json:"min"`
	Max          *int32           `json:"max"`
	Template     wireTemplate     `json:"template"`
	Shapes       []wireShape      `json:"shapes"`
	Provisioning wireProvisioning `json:"provisioning"`
	Weight       *int32           `json:"weight"`
	Disruption   wireDisruption   `json:"disruption"`
}

// wireDisruption is Karpenter's NodePool spec.disruption (see Disruption).
type wireDisruption struct {
	ConsolidationPolicy string          `json:"consolidationPolicy"`
	ConsolidateAfter    json.RawMessage `json:"consolidateAfter"`
	Budgets             []wireBudget    `json:"budgets"`
}

type wireBudget struct {
	Nodes    string   `json:"nodes"`
	Reasons  []string `json:"reasons"`
	Schedule *string  `json:"schedule"`
	Duration *string  `json:"duration"`
}

type wireTemplate struct {
	Metadata struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Taints        []corev1.Taint `json:"taints"`
		Unschedulable bool           `json:"unschedulable"`
	} `json:"spec"`
}

type wireShape struct {
	Name         string                     `json:"name"`
	Capacity     map[string]json.RawMessage `json:"capacity"`
	Allocatable  map[string]json.RawMessage `json:"allocatable"`
	PricePerHour json.RawMessage            `json:"pricePerHour"`
	Labels       map[string]string          `json:"labels"`
}

type wireProvisioning struct {
	Delay struct {
		Min json.RawMessage `json:"min"`
		Max json.RawMessage `json:"max"`
	} `json:"delay"`
}

// Error is a NodePool that does not decode or validate: every problem, as "field.path: what
// was expected", in field order.
type Error struct {
	Name   string // the pool's name, "" when it has none
	Fields []string
}

func (e *Error) Error() string {
	what := "NodePool"
	if e.Name != "" {
		what = fmt.Sprintf("NodePool %q", e.Name)
	}
	return what + " is invalid: " + strings.Join(e.Fields, "; ")
}

// BadInput marks the error as bad input (kwoksim exits 2).
func (*Error) BadInput() {}

// Decode reads one NodePool document (YAML or JSON) strictly: an unknown field is refused with
// its path, as kubectl --validate=strict does; then it defaults and validates it.
func Decode(doc []byte) (*NodePool, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		// Still bad input with a message of its own (exit 2), not an internal error.
		return nil, &Error{Fields: []string{"not a YAML or JSON object: " + err.Error()}}
	}
	var w wirePool
	strict, err := kjson.UnmarshalStrict(j, &w, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return nil, &Error{Fields: []string{err.Error()}}
	}
	if len(strict) > 0 {
		e := &Error{Name: w.Metadata.Name}
		for _, s := range strict {
			msg := s.Error()
			if strings.Contains(msg, `"spec.template.spec.`) {
				msg += " (a pool's node template takes only taints and unschedulable: the rest of a Node's spec is the cloud's or the kubelet's)"
			}
			e.Fields = append(e.Fields, msg)
		}
		return nil, e
	}
	return fromWire(&w)
}

// fromWire defaults and validates a decoded pool.
func fromWire(w *wirePool) (*NodePool, error) {
	v := &validator{}
	if w.APIVersion != APIVersion || w.Kind != Kind {
		v.add("apiVersion", fmt.Sprintf("must be %s with kind %s, not %s %s", APIVersion, Kind, w.APIVersion, w.Kind))
	}
	p := &NodePool{TypeMeta: metav1.TypeMeta{APIVersion: APIVersion, Kind: Kind}, ObjectMeta: w.Metadata}
	v.name("metadata.name", w.Metadata.Name)
	if w.Metadata.Namespace != "" {
		v.add("metadata.namespace", "must be empty: a NodePool is cluster-scoped, as Nodes are")
	}

	s := &p.Spec
	if w.Spec.Min != nil {
		s.Min = *w.Spec.Min
	}
	if s.Min < 0 {
		v.add("spec.min", fmt.Sprintf("must be >= 0, not %d", s.Min))
	}
	switch {
	case w.Spec.Max == nil:
		v.add("spec.max", "required: the most nodes the pool may have (>= 1)")
	case *w.Spec.Max < 1:
		v.add("spec.max", fmt.Sprintf("must be >= 1, not %d", *w.Spec.Max))
	case *w.Spec.Max < s.Min:
		v.add("spec.max", fmt.Sprintf("must be >= spec.min (%d), not %d", s.Min, *w.Spec.Max))
	}
	if w.Spec.Max != nil {
		s.Max = *w.Spec.Max
	}

	t := &w.Spec.Template
	s.Template = Template{Labels: t.Metadata.Labels, Annotations: t.Metadata.Annotations,
		Taints: t.Spec.Taints, Unschedulable: t.Spec.Unschedulable}
	v.labels("spec.template.metadata.labels", t.Metadata.Labels)
	v.annotations("spec.template.metadata.annotations", t.Metadata.Annotations)
	v.taints("spec.template.spec.taints", t.Spec.Taints)

	if len(w.Spec.Shapes) == 0 {
		v.add("spec.shapes", "must list at least one instance shape")
	}
	seen := map[string]int{}
	for i, ws := range w.Spec.Shapes {
		path := fmt.Sprintf("spec.shapes[%d]", i)
		if j, dup := seen[ws.Name]; dup && ws.Name != "" {
			v.add(path+".name", fmt.Sprintf("duplicate shape name %q (also spec.shapes[%d])", ws.Name, j))
		}
		seen[ws.Name] = i
		s.Shapes = append(s.Shapes, v.shape(path, &ws))
	}

	d := &w.Spec.Provisioning.Delay
	min := v.duration("spec.provisioning.delay.min", d.Min, 0)
	max := v.duration("spec.provisioning.delay.max", d.Max, min)
	if max < min {
		v.add("spec.provisioning.delay.max", fmt.Sprintf("must be >= spec.provisioning.delay.min (%s), not %s", min, max))
	}
	s.Provisioning.Delay = DelayRange{Min: min, Max: max}

	if w.Spec.Weight != nil {
		s.Weight = *w.Spec.Weight
		if s.Weight < 1 || s.Weight > 100 {
			v.add("spec.weight", fmt.Sprintf("must be between 1 and 100, not %d", s.Weight))
		}
	}
	s.Disruption = v.disruption("spec.disruption", &w.Spec.Disruption)

	if len(v.fields) > 0 {
		return nil, &Error{Name: w.Metadata.Name, Fields: v.fields}
	}
	return p, nil
}

// shape converts and checks one shape; allocatable defaults to capacity, pods to DefaultMaxPods.
func (v *validator) shape(path string, ws *wireShape) Shape {
	s := Shape{Name: ws.Name, Labels: ws.Labels}
	if ws.Name == "" {
		v.add(path+".name", "required: the instance type (e.g. m5.2xlarge)")
	} else {
		v.labelValue(path+".name", ws.Name)
		v.name(path+".name", ws.Name)
	}
	s.Capacity = v.resources(path+".capacity", ws.Capacity)
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := ws.Capacity[string(r)]; !ok {
			v.add(fmt.Sprintf("%s.capacity.%s", path, r), "required: a quantity")
		}
	}
	if _, ok := ws.Capacity[string(corev1.ResourcePods)]; !ok {
		s.Capacity[corev1.ResourcePods] = *resource.NewQuantity(DefaultMaxPods, resource.DecimalSI)
	}
	s.Allocatable = s.Capacity.DeepCopy()
	for name, q := range v.resources(path+".allocatable", ws.Allocatable) {
		c, ok := s.Capacity[name]
		switch {
		case !ok:
			v.add(fmt.Sprintf("%s.allocatable.%s", path, name), "must also be in capacity")
		case q.Cmp(c) > 0:
			v.add(fmt.Sprintf("%s.allocatable.%s", path, name), fmt.Sprintf("must be <= capacity (%s), not %s", c.String(), q.String()))
		}
		s.Allocatable[name] = q
	}
	v.labels(path+".labels", ws.Labels)
	s.PricePerHour = v.price(path+".pricePerHour", ws.PricePerHour)
	return s
}

// validator collects "path: message" problems.
type validator struct{ fields []string }

func (v *validator) add(path, msg string) { v.fields = append(v.fields, path+": "+msg) }

// resources parses a map of quantities, in name order; a value may be a string or a number.
func (v *validator) resources(path string, raw map[string]json.RawMessage) corev1.ResourceList {
	out := corev1.ResourceList{}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := path + "." + name
		if msgs := validResourceName(name); msgs != "" {
			v.add(p, msgs)
			continue
		}
		text := string(bytes.TrimSpace(raw[name]))
		var str string
		if json.Unmarshal(raw[name], &str) == nil {
			text = str
		}
		q, err := resource.ParseQuantity(text)
		if err != nil {
			v.add(p, fmt.Sprintf("must be a quantity (e.g. 8, 500m, 32Gi), not %s", raw[name]))
			continue
		}
		if q.Sign() < 0 {
			v.add(p, fmt.Sprintf("must be >= 0, not %s", q.String()))
			continue
		}
		out[corev1.ResourceName(name)] = q
	}
	return out
}

// price parses a decimal >= 0, given as a number or a string.
func (v *validator) price(path string, raw json.RawMessage) float64 {
	if len(raw) == 0 || string(raw) == "null" {
		v.add(path, "required: a decimal >= 0 (e.g. 0.384)")
		return 0
	}
	text := string(bytes.TrimSpace(raw))
	var str string
	if json.Unmarshal(raw, &str) == nil {
		text = str
	}
	f, err := strconv.ParseFloat(text, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		v.add(path, fmt.Sprintf("must be a decimal (e.g. 0.384), not %s", raw))
	case f < 0:
		v.add(path, fmt.Sprintf("must be >= 0, not %s", text))
	}
	return f
}

// duration parses a Go duration string >= 0; an absent one is def. A bare number is refused:
// its unit would be a guess.
func (v *validator) duration(path string, raw json.RawMessage, def time.Duration) time.Duration {
	if len(raw) == 0 || string(raw) == "null" {
		return def
	}
	var s string
	err := json.Unmarshal(raw, &s)
	var d time.Duration
	if err == nil {
		d, err = time.ParseDuration(s)
	}
	switch {
	case err != nil:
		v.add(path, fmt.Sprintf("must be a Go duration (e.g. 90s, 1m30s), not %s", raw))
		return def
	case d < 0:
		v.add(path, fmt.Sprintf("must be >= 0, not %s", d))
		return def
	}
	return d
}
