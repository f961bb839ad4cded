package openb

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/workloads/devices"
)

// Names the imported manifests use.
const (
	// ResourceGPUMilli is the extended resource for GPUs, in thousandths of a GPU, so that
	// the trace's fractional GPU requests (gpu_milli) fit a whole-number resource.
	ResourceGPUMilli = analysis.GPUMilliResource
	// LabelGPUModel is the node label holding the GPU model, which gpu_spec selects on.
	LabelGPUModel = "kwoksim.io/gpu-model"
	// LabelQoS carries the trace's qos column; nothing acts on it.
	LabelQoS = "kwoksim.io/qos"

	// nodePods is the pod capacity of every node, above Kubernetes' default of 110 so that
	// the trace's small CPU-only pods are limited by resources rather than by count.
	nodePods = "256"
)

// The manifests are written from these small types rather than corev1.Node and corev1.Pod:
// the typed objects print empty noise (creationTimestamp: null, status: {}) and
// resource.Quantity would rewrite 262144Mi as 256Gi, hiding the trace's own numbers. The
// tests decode the output with the client-go scheme to prove it means the same thing.

type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// resourceList maps a resource name to its quantity as written; encoding/json sorts the
// keys, so the output is deterministic.
type resourceList map[string]string

type nodeManifest struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Status     nodeStatus `json:"status"`
}

type nodeStatus struct {
	Capacity    resourceList `json:"capacity"`
	Allocatable resourceList `json:"allocatable"`
}

type podManifest struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       podSpec    `json:"spec"`
}

type podSpec struct {
	Containers []container `json:"containers"`
	// ResourceClaims (GPUDRA) is the pod's GPU claim, made from its shape's template.
	ResourceClaims []corev1.PodResourceClaim `json:"resourceClaims,omitempty"`
	// corev1.Affinity is used as is: every field of it is omitempty, so it prints cleanly.
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
}

type container struct {
	Name      string    `json:"name"`
	Image     string    `json:"image"`
	Resources resources `json:"resources"`
}

type resources struct {
	Limits   resourceList           `json:"limits,omitempty"`
	Requests resourceList           `json:"requests"`
	Claims   []corev1.ResourceClaim `json:"claims,omitempty"`
}

// cpu prints millicores canonically: 32000 as "32", 8500 as "8500m".
func cpu(milli int64) string { return resource.NewMilliQuantity(milli, resource.DecimalSI).String() }

// memory keeps the trace's unit, so a manifest can be checked against its CSV line by eye.
func memory(mib int64) string { return strconv.FormatInt(mib, 10) + "Mi" }

func (n Node) manifest(opts Options) nodeManifest {
	list := func() resourceList {
		l := resourceList{"cpu": cpu(n.CPUMilli), "memory": memory(n.MemoryMiB), "pods": nodePods}
		if n.GPUs > 0 && !opts.dra() {
			l[ResourceGPUMilli] = strconv.FormatInt(n.GPUs*1000, 10)
		}
		return l
	}
	m := nodeManifest{APIVersion: "v1", Kind: "Node", Metadata: objectMeta{Name: n.Name},
		Status: nodeStatus{Capacity: list(), Allocatable: list()}}
	if n.Model != "" {
		m.Metadata.Labels = map[string]string{LabelGPUModel: n.Model}
	}
	if n.GPUs > 0 && opts.dra() {
		m.Metadata.Annotations = map[string]string{devices.Annotation: n.devicesAnnotation()}
	}
	return m
}

func (p Pod) manifest(opts Options) *podManifest {
	res := resources{Requests: resourceList{"cpu": cpu(p.CPUMilli), "memory": memory(p.MemoryMiB)}}
	if p.NumGPU > 0 && !opts.dra() {
		// Kubernetes accepts an extended resource only with a limit equal to its request.
		gpu := strconv.FormatInt(p.NumGPU*p.GPUMilli, 10)
		res.Requests[ResourceGPUMilli] = gpu
		res.Limits = resourceList{ResourceGPUMilli: gpu}
	}
	m := &podManifest{APIVersion: "v1", Kind: "Pod",
		Metadata: objectMeta{Name: p.Name, Namespace: "default"},
		Spec:     podSpec{Containers: []container{{Name: "main", Image: "openb", Resources: res}}}}
	if p.QoS != "" {
		m.Metadata.Labels = map[string]string{LabelQoS: p.QoS}
	}
	if p.NumGPU > 0 && opts.dra() {
		// The model choice is the claim's selector (dra.go), not node affinity.
		m.Spec.ResourceClaims, m.Spec.Containers[0].Resources.Claims = p.claimRefs()
		return m
	}
	if len(p.GPUModels) > 0 {
		m.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: LabelGPUModel, Operator: corev1.NodeSelectorOpIn, Values: p.GPUModels,
				}}}},
			},
		}}
	}
	return m
}
