package autoscaling

import (
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
