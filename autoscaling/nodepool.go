package autoscaling

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// APIVersion and Kind name a NodePool; kwoksim/v1alpha1 is also the group of Trace and Sweep.
const (
	APIVersion = "kwoksim/v1alpha1"
	Kind       = "NodePool"
)

// PoolLabel is the label every node of a pool carries, naming the pool (as Karpenter's
// karpenter.sh/nodepool does for its NodePools).
const PoolLabel = "kwoksim.io/node-pool"

// DefaultMaxPods is the pods capacity of a shape that does not give one: the kubelet's default
// maxPods (pkg/kubelet/apis/config/v1beta1/defaults.go, SetDefaults_KubeletConfiguration: 110).
const DefaultMaxPods = 110

// NodePool is a validated, defaulted pool of nodes an autoscaler may add and remove. Nodes it
// would create are named <pool>-<shape>-<n> (NodeName), n counting from 0 per pool and shape.
type NodePool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              Spec `json:"spec"`
}

// Spec is a pool's bounds, node template, shapes and provisioning delay.
type Spec struct {
	// Min and Max bound the pool's node count: 0 <= Min <= Max, Max >= 1. Min defaults to 0.
	Min, Max int32
	// Template is what every node of the pool carries.
	Template Template
	// Shapes are the instance shapes a node can have, at least one, names unique, in input order.
	Shapes []Shape
	// Provisioning is how long a node takes from the decision to Ready.
	Provisioning Provisioning
	// Weight is Karpenter's spec.weight (1..100, 0 when not given): pools with a higher
	// weight are tried first for a new node. cluster-autoscaler ignores it.
	Weight int32
	// Disruption is Karpenter's spec.disruption (see Disruption), defaulted.
	// cluster-autoscaler ignores it: its scale-down follows its own flags.
	Disruption Disruption
}

// Template is the part of a node the pool sets whatever its shape. Of a Node's spec only
// taints and unschedulable are taken: the rest (podCIDR, providerID, configSource) is a
// cloud's or a kubelet's to set, and refused as unknown fields.
type Template struct {
	Labels, Annotations map[string]string
	Taints              []corev1.Taint
	Unschedulable       bool
}

// Shape is one instance type of a pool.
type Shape struct {
	// Name becomes the node.kubernetes.io/instance-type label and part of node names.
	Name string
	// Capacity has at least cpu and memory; pods defaults to DefaultMaxPods.
	Capacity corev1.ResourceList
	// Allocatable defaults to Capacity; a resource it leaves out is the capacity's.
	Allocatable corev1.ResourceList
	// PricePerHour is in the user's currency, >= 0.
	PricePerHour float64
	// Labels are the shape's own, added to the template's (a shape's label wins).
	Labels map[string]string
}

// Provisioning says how long a new node takes to be Ready.
type Provisioning struct {
	// Delay is drawn uniformly in [Min, Max] (both 0 by default: Ready at once).
	Delay DelayRange
}

// DelayRange is a uniform distribution of durations, Min <= Max.
type DelayRange struct {
	Min, Max time.Duration
}

var _ runtime.Object = &NodePool{}

// DeepCopyObject implements runtime.Object, so that a pool travels with the other inputs.
func (p *NodePool) DeepCopyObject() runtime.Object { return p.DeepCopy() }

// DeepCopy returns a copy sharing nothing with p.
func (p *NodePool) DeepCopy() *NodePool {
	if p == nil {
		return nil
	}
	out := &NodePool{TypeMeta: p.TypeMeta, Spec: p.Spec}
	p.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	t := &out.Spec.Template
	t.Labels, t.Annotations = copyMap(p.Spec.Template.Labels), copyMap(p.Spec.Template.Annotations)
	t.Taints = nil
	for _, taint := range p.Spec.Template.Taints {
		t.Taints = append(t.Taints, *taint.DeepCopy())
	}
	if d := p.Spec.Disruption.ConsolidateAfter; d != nil {
		v := *d
		out.Spec.Disruption.ConsolidateAfter = &v
	}
	out.Spec.Disruption.Budgets = nil
	for _, b := range p.Spec.Disruption.Budgets {
		out.Spec.Disruption.Budgets = append(out.Spec.Disruption.Budgets, Budget{Nodes: b.Nodes, Reasons: slices.Clone(b.Reasons)})
	}
	out.Spec.Shapes = make([]Shape, len(p.Spec.Shapes))
	for i, s := range p.Spec.Shapes {
		out.Spec.Shapes[i] = Shape{Name: s.Name, Capacity: s.Capacity.DeepCopy(), Allocatable: s.Allocatable.DeepCopy(),
			PricePerHour: s.PricePerHour, Labels: copyMap(s.Labels)}
	}
	return out
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Shape returns the pool's shape of that name, or nil.
func (p *NodePool) Shape(name string) *Shape {
	for i := range p.Spec.Shapes {
		if p.Spec.Shapes[i].Name == name {
			return &p.Spec.Shapes[i]
		}
	}
	return nil
}
