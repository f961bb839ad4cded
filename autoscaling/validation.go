package autoscaling

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Field checks reuse apimachinery's validation (k8s.io/apimachinery/pkg/util/validation), the
// rules the apiserver applies to a Node's name, labels, annotations and taints.

// reservedLabels are set on every node by the pool itself (see Node); a template or shape
// giving them would be overridden, so they are refused.
var reservedLabels = []string{PoolLabel, corev1.LabelInstanceTypeStable, corev1.LabelHostname}

// name checks a DNS subdomain, the form of a Node's name (pool and shape names are part of one).
func (v *validator) name(path, name string) {
	if name == "" {
		v.add(path, "required")
		return
	}
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		v.add(path, fmt.Sprintf("%q: %s", name, msg))
	}
}

func (v *validator) labelValue(path, value string) {
	for _, msg := range validation.IsValidLabelValue(value) {
		v.add(path, fmt.Sprintf("%q: %s", value, msg))
	}
}

// labels checks keys and values as apimachinery's ValidateLabels does, in key order.
func (v *validator) labels(path string, labels map[string]string) {
	for _, k := range sortedKeys(labels) {
		for _, msg := range validation.IsQualifiedName(k) {
			v.add(path, fmt.Sprintf("%q: %s", k, msg))
		}
		v.labelValue(path+"."+k, labels[k])
		for _, r := range reservedLabels {
			if k == r {
				v.add(path+"."+k, "is set by the pool on each node and cannot be given")
			}
		}
	}
}

func (v *validator) annotations(path string, annotations map[string]string) {
	for _, k := range sortedKeys(annotations) {
		for _, msg := range validation.IsQualifiedName(strings.ToLower(k)) {
			v.add(path, fmt.Sprintf("%q: %s", k, msg))
		}
	}
}

// taints follows pkg/apis/core/validation/validation.go, validateNodeTaints: a qualified key,
// a label-value value, a known effect, and no two taints with the same key and effect.
func (v *validator) taints(path string, taints []corev1.Taint) {
	seen := map[string]bool{}
	for i, t := range taints {
		p := fmt.Sprintf("%s[%d]", path, i)
		for _, msg := range validation.IsQualifiedName(t.Key) {
			v.add(p+".key", fmt.Sprintf("%q: %s", t.Key, msg))
		}
		v.labelValue(p+".value", t.Value)
		switch t.Effect {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			v.add(p+".effect", fmt.Sprintf(`Unsupported value: %q: supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"`, t.Effect))
		}
		k := t.Key + "\x00" + string(t.Effect)
		if seen[k] {
			v.add(p, fmt.Sprintf("taints must be unique by key and effect pair: %s:%s", t.Key, t.Effect))
		}
		seen[k] = true
	}
}

// validResourceName is "" for a standard or extended resource name (a qualified name), as
// a Node's capacity takes.
func validResourceName(name string) string {
	if msgs := validation.IsQualifiedName(name); len(msgs) > 0 {
		return "must be a resource name: " + strings.Join(msgs, "; ")
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
