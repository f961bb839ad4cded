package autoscaling

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

const good = `apiVersion: kwoksim/v1alpha1
kind: NodePool
metadata: {name: general}
spec:
  min: 1
  max: 20
  template:
    metadata: {labels: {team: web}, annotations: {note: x}}
    spec: {taints: [{key: dedicated, value: web, effect: NoSchedule}]}
  shapes:
  - name: m5.2xlarge
    capacity: {cpu: "8", memory: 32Gi}
    pricePerHour: 0.384
    labels: {topology.kubernetes.io/zone: a}
  - name: c5.xlarge
    capacity: {cpu: 4, memory: 8Gi, pods: "58"}
    allocatable: {cpu: 3920m}
    pricePerHour: "0.17"
  provisioning:
    delay: {min: 60s, max: 90s}
`

func TestDecodeDefaults(t *testing.T) {
	p, err := Decode([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "general" || p.Spec.Min != 1 || p.Spec.Max != 20 || len(p.Spec.Shapes) != 2 {
		t.Fatalf("got %+v", p)
	}
	if d := p.Spec.Provisioning.Delay; d.Min != 60*time.Second || d.Max != 90*time.Second {
		t.Errorf("delay %+v, want 60s..90s", d)
	}
	m5, c5 := p.Shape("m5.2xlarge"), p.Shape("c5.xlarge")
	// pods defaults to the kubelet's maxPods, 110; allocatable to capacity.
	if q := m5.Capacity[corev1.ResourcePods]; q.Value() != 110 {
		t.Errorf("m5 pods capacity %s, want 110", q.String())
	}
	if q := m5.Allocatable[corev1.ResourceMemory]; q.Cmp(resource.MustParse("32Gi")) != 0 {
		t.Errorf("m5 allocatable memory %s, want 32Gi", q.String())
	}
	// A resource allocatable gives is taken; the others are the capacity's.
	if q := c5.Allocatable[corev1.ResourceCPU]; q.MilliValue() != 3920 {
		t.Errorf("c5 allocatable cpu %s, want 3920m", q.String())
	}
	if q := c5.Allocatable[corev1.ResourcePods]; q.Value() != 58 {
		t.Errorf("c5 allocatable pods %s, want 58", q.String())
	}
	if m5.PricePerHour != 0.384 || c5.PricePerHour != 0.17 {
		t.Errorf("prices %v %v", m5.PricePerHour, c5.PricePerHour)
	}
}

func TestDecodeMinimal(t *testing.T) {
	p, err := Decode([]byte(`{apiVersion: kwoksim/v1alpha1, kind: NodePool, metadata: {name: p}, spec: {max: 1, shapes: [{name: s, capacity: {cpu: 1, memory: 1Gi}, pricePerHour: 0}], provisioning: {delay: {min: 30s}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	// min defaults to 0; a delay with only min is fixed.
	if p.Spec.Min != 0 || p.Spec.Provisioning.Delay != (DelayRange{30 * time.Second, 30 * time.Second}) {
		t.Errorf("got min %d delay %+v", p.Spec.Min, p.Spec.Provisioning.Delay)
	}
}

func TestDecodeErrors(t *testing.T) {
	shape := `{name: s, capacity: {cpu: 1, memory: 1Gi}, pricePerHour: 1}`
	pool := func(spec string) string {
		return `{apiVersion: kwoksim/v1alpha1, kind: NodePool, metadata: {name: p}, spec: ` + spec + `}`
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"max below min", pool(`{min: 3, max: 2, shapes: [` + shape + `]}`), "spec.max: must be >= spec.min (3), not 2"},
		{"max zero", pool(`{max: 0, shapes: [` + shape + `]}`), "spec.max: must be >= 1, not 0"},
		{"no max", pool(`{shapes: [` + shape + `]}`), "spec.max: required"},
		{"negative min", pool(`{min: -1, max: 2, shapes: [` + shape + `]}`), "spec.min: must be >= 0, not -1"},
		{"no shapes", pool(`{max: 2}`), "spec.shapes: must list at least one instance shape"},
		{"duplicate shape", pool(`{max: 2, shapes: [` + shape + `, ` + shape + `]}`), `spec.shapes[1].name: duplicate shape name "s" (also spec.shapes[0])`},
		{"bad quantity", pool(`{max: 2, shapes: [` + shape + `, {name: t, capacity: {cpu: eight, memory: 1Gi}, pricePerHour: 1}]}`), "spec.shapes[1].capacity.cpu: must be a quantity"},
		{"no memory", pool(`{max: 2, shapes: [{name: t, capacity: {cpu: 1}, pricePerHour: 1}]}`), "spec.shapes[0].capacity.memory: required"},
		{"allocatable above capacity", pool(`{max: 2, shapes: [{name: t, capacity: {cpu: 1, memory: 1Gi}, allocatable: {cpu: 2}, pricePerHour: 1}]}`), "spec.shapes[0].allocatable.cpu: must be <= capacity (1), not 2"},
		{"negative price", pool(`{max: 2, shapes: [{name: t, capacity: {cpu: 1, memory: 1Gi}, pricePerHour: -0.5}]}`), "spec.shapes[0].pricePerHour: must be >= 0, not -0.5"},
		{"no price", pool(`{max: 2, shapes: [{name: t, capacity: {cpu: 1, memory: 1Gi}}]}`), "spec.shapes[0].pricePerHour: required"},
		{"unknown field", pool(`{max: 2, maxNodes: 3, shapes: [` + shape + `]}`), `unknown field "spec.maxNodes"`},
		{"template spec field", pool(`{max: 2, template: {spec: {providerID: x}}, shapes: [` + shape + `]}`), `unknown field "spec.template.spec.providerID" (a pool's node template takes only taints and unschedulable`},
		{"bad duration", pool(`{max: 2, shapes: [` + shape + `], provisioning: {delay: {min: 60}}}`), "spec.provisioning.delay.min: must be a Go duration (e.g. 90s, 1m30s), not 60"},
		{"bad duration string", pool(`{max: 2, shapes: [` + shape + `], provisioning: {delay: {max: 1 minute}}}`), `spec.provisioning.delay.max: must be a Go duration (e.g. 90s, 1m30s), not "1 minute"`},
		{"delay min above max", pool(`{max: 2, shapes: [` + shape + `], provisioning: {delay: {min: 90s, max: 60s}}}`), "spec.provisioning.delay.max: must be >= spec.provisioning.delay.min (1m30s), not 1m0s"},
		{"reserved label", pool(`{max: 2, template: {metadata: {labels: {kwoksim.io/node-pool: x}}}, shapes: [` + shape + `]}`), "spec.template.metadata.labels.kwoksim.io/node-pool: is set by the pool"},
		{"bad taint effect", pool(`{max: 2, template: {spec: {taints: [{key: k, effect: Never}]}}, shapes: [` + shape + `]}`), `spec.template.spec.taints[0].effect: Unsupported value: "Never"`},
		{"bad shape name", pool(`{max: 2, shapes: [{name: "M5 large", capacity: {cpu: 1, memory: 1Gi}, pricePerHour: 1}]}`), `spec.shapes[0].name: "M5 large"`},
		{"namespaced", `{apiVersion: kwoksim/v1alpha1, kind: NodePool, metadata: {name: p, namespace: d}, spec: {max: 1, shapes: [` + shape + `]}}`, "metadata.namespace: must be empty"},
		{"weight zero", pool(`{max: 2, weight: 0, shapes: [` + shape + `]}`), "spec.weight: must be between 1 and 100, not 0"},
		{"weight above 100", pool(`{max: 2, weight: 101, shapes: [` + shape + `]}`), "spec.weight: must be between 1 and 100, not 101"},
		{"unknown policy", pool(`{max: 2, disruption: {consolidationPolicy: Always}, shapes: [` + shape + `]}`), `spec.disruption.consolidationPolicy: Unsupported value: "Always"`},
		{"balanced not modelled", pool(`{max: 2, disruption: {consolidationPolicy: Balanced}, shapes: [` + shape + `]}`), `spec.disruption.consolidationPolicy: "Balanced" is not modelled`},
		{"bad consolidateAfter", pool(`{max: 2, disruption: {consolidateAfter: soon}, shapes: [` + shape + `]}`), "spec.disruption.consolidateAfter: must be a Go duration"},
		{"budget percent above 100", pool(`{max: 2, disruption: {budgets: [{nodes: "120%"}]}, shapes: [` + shape + `]}`), `spec.disruption.budgets[0].nodes: must be a count ("3") or a percentage up to 100% ("10%"), not "120%"`},
		{"budget negative", pool(`{max: 2, disruption: {budgets: [{nodes: "-1"}]}, shapes: [` + shape + `]}`), `spec.disruption.budgets[0].nodes: must be a count`},
		{"budget reason", pool(`{max: 2, disruption: {budgets: [{nodes: "1", reasons: [Expired]}]}, shapes: [` + shape + `]}`), `spec.disruption.budgets[0].reasons[0]: Unsupported value: "Expired"`},
		{"budget schedule", pool(`{max: 2, disruption: {budgets: [{nodes: "0", schedule: "@daily", duration: 10m}]}, shapes: [` + shape + `]}`), "spec.disruption.budgets[0]: schedule and duration are not modelled"},
		{"budget unknown field", pool(`{max: 2, disruption: {budgets: [{node: "1"}]}, shapes: [` + shape + `]}`), `unknown field "spec.disruption.budgets[0].node"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestNode(t *testing.T) {
	p, err := Decode([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.Node("m5.2xlarge", 3)
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "general-m5.2xlarge-3" {
		t.Errorf("name %q", n.Name)
	}
	want := map[string]string{
		"team": "web", "topology.kubernetes.io/zone": "a",
		"node.kubernetes.io/instance-type": "m5.2xlarge", "kwoksim.io/node-pool": "general",
		"kubernetes.io/hostname": "general-m5.2xlarge-3", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
	}
	if len(n.Labels) != len(want) {
		t.Errorf("labels %v, want %v", n.Labels, want)
	}
	for k, v := range want {
		if n.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, n.Labels[k], v)
		}
	}
	if n.Annotations["note"] != "x" || len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "dedicated" || n.Spec.Taints[0].Effect != corev1.TaintEffectNoSchedule {
		t.Errorf("annotations %v taints %v", n.Annotations, n.Spec.Taints)
	}
	if q := n.Status.Capacity[corev1.ResourceCPU]; q.Value() != 8 {
		t.Errorf("cpu %s", q.String())
	}
	if q := n.Status.Allocatable[corev1.ResourcePods]; q.Value() != 110 {
		t.Errorf("pods %s", q.String())
	}
	// The node shares nothing with the pool.
	n.Labels["team"] = "changed"
	n.Spec.Taints[0].Key = "changed"
	n.Status.Capacity[corev1.ResourceCPU] = resource.MustParse("1")
	if p.Spec.Template.Labels["team"] != "web" || p.Spec.Template.Taints[0].Key != "dedicated" {
		t.Error("Node aliases the template")
	}
	if q := p.Shape("m5.2xlarge").Capacity[corev1.ResourceCPU]; q.Value() != 8 {
		t.Error("Node aliases the shape's capacity")
	}
	if _, err := p.Node("nope", 0); err == nil {
		t.Error("an unknown shape gave a node")
	}
}

// The example the README points to decodes, and the README's block is valid too.
func TestExampleFile(t *testing.T) {
	data, err := os.ReadFile("../testdata/inputs/nodepool.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if q := p.Shape("m5.xlarge").Allocatable[corev1.ResourcePods]; q.Value() != DefaultMaxPods {
		t.Errorf("m5.xlarge allocatable pods %s, want the capacity's default %d", q.String(), DefaultMaxPods)
	}
}

// Karpenter's defaults (pkg/apis/v1/nodepool.go kubebuilder markers): WhenEmptyOrUnderutilized,
// consolidateAfter 0s, one budget of 10%; "Never" disables consolidation; no weight is 0.
func TestDecodeDisruption(t *testing.T) {
	p, err := Decode([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	d := p.Spec.Disruption
	if d.ConsolidationPolicy != ConsolidationWhenEmptyOrUnderutilized || d.ConsolidateAfter == nil || *d.ConsolidateAfter != 0 ||
		len(d.Budgets) != 1 || d.Budgets[0].Nodes != "10%" || d.Budgets[0].Reasons != nil || p.Spec.Weight != 0 {
		t.Errorf("defaults: %+v weight %d", d, p.Spec.Weight)
	}
	p, err = Decode([]byte(`{apiVersion: kwoksim/v1alpha1, kind: NodePool, metadata: {name: p}, spec: {max: 1, weight: 10,
  disruption: {consolidationPolicy: WhenEmpty, consolidateAfter: Never, budgets: [{nodes: "3", reasons: [Empty, Underutilized]}, {nodes: "0", reasons: [Drifted]}]},
  shapes: [{name: s, capacity: {cpu: 1, memory: 1Gi}, pricePerHour: 0}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	d = p.Spec.Disruption
	if d.ConsolidationPolicy != ConsolidationWhenEmpty || d.ConsolidateAfter != nil || len(d.Budgets) != 2 || p.Spec.Weight != 10 {
		t.Errorf("given: %+v weight %d", d, p.Spec.Weight)
	}
	c := p.DeepCopy()
	c.Spec.Disruption.Budgets[0].Reasons[0] = "changed"
	if p.Spec.Disruption.Budgets[0].Reasons[0] != DisruptionEmpty {
		t.Error("DeepCopy aliases the budgets")
	}
}

// Budget.GetAllowedDisruptions scales a percentage rounding up; the least applicable budget wins.
func TestAllowedDisruptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		budgets []Budget
		reason  string
		nodes   int
		want    int
	}{
		{"10% of 1 rounds up", []Budget{{Nodes: "10%"}}, DisruptionEmpty, 1, 1},
		{"10% of 2", []Budget{{Nodes: "10%"}}, DisruptionEmpty, 2, 1},
		{"10% of 10", []Budget{{Nodes: "10%"}}, DisruptionEmpty, 10, 1},
		{"10% of 11", []Budget{{Nodes: "10%"}}, DisruptionEmpty, 11, 2},
		{"10% of 20", []Budget{{Nodes: "10%"}}, DisruptionUnderutilized, 20, 2},
		{"10% of none", []Budget{{Nodes: "10%"}}, DisruptionEmpty, 0, 0},
		{"count", []Budget{{Nodes: "3"}}, DisruptionEmpty, 100, 3},
		{"least wins", []Budget{{Nodes: "50%"}, {Nodes: "2"}}, DisruptionEmpty, 10, 2},
		{"other reason ignored", []Budget{{Nodes: "0", Reasons: []string{DisruptionUnderutilized}}, {Nodes: "5"}}, DisruptionEmpty, 10, 5},
		{"reason applies", []Budget{{Nodes: "0", Reasons: []string{DisruptionUnderutilized}}, {Nodes: "5"}}, DisruptionUnderutilized, 10, 0},
		{"none applies", []Budget{{Nodes: "1", Reasons: []string{DisruptionDrifted}}}, DisruptionEmpty, 10, math.MaxInt32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Disruption{Budgets: tc.budgets}).AllowedDisruptions(tc.reason, tc.nodes); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestCheapest(t *testing.T) {
	p, err := Decode([]byte(`{apiVersion: kwoksim/v1alpha1, kind: NodePool, metadata: {name: p}, spec: {max: 1, shapes: [
  {name: c32, capacity: {cpu: 32, memory: 1Gi}, pricePerHour: 1.5},
  {name: c8b, capacity: {cpu: 8, memory: 1Gi}, pricePerHour: 0.4},
  {name: c8a, capacity: {cpu: 8, memory: 1Gi}, pricePerHour: 0.4}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Cheapest([]string{"c32", "c8b", "c8a"}); got != "c8a" {
		t.Errorf("cheapest of all: %q, want c8a (ties by name)", got)
	}
	if got := p.Cheapest([]string{"c32"}); got != "c32" {
		t.Errorf("cheapest of c32: %q", got)
	}
	if got := p.Cheapest(nil); got != "" {
		t.Errorf("cheapest of none: %q", got)
	}
}
