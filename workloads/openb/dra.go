package openb

import (
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/workloads/devices"
)

// Names the DRA mapping uses (Options.GPU = GPUDRA).
const (
	// DeviceClassName is the DeviceClass the claims ask for: every device of GPUDriver.
	DeviceClassName = "gpu"
	// GPUDriver is the driver of the simulated cards (workloads/devices' default).
	GPUDriver = devices.DefaultDriver
	// CapacityGPUMilli is a card's capacity in thousandths, which pods consume a share of.
	CapacityGPUMilli = analysis.GPUMilliCapacity
	// AttributeModel is a card's model attribute, which gpu_spec selects on.
	AttributeModel = "model"
	// claimName names the claim in the pod and its container.
	claimName = "gpu"
)

// maxDRAGPUs is the most cards a node may have with GPUDRA: the annotation's bound.
const maxDRAGPUs = devices.MaxDevicesPerNode

// devicesAnnotation is the node's kwoksim.io/devices value: its cards, shared, each with
// 1000 gpuMilli and the model attribute. JSON on one line, which YAML reads too, so that the
// manifest stays one line per field.
func (n Node) devicesAnnotation() string {
	set := map[string]any{"driver": GPUDriver, "name": "gpu", "count": n.GPUs,
		"capacity": map[string]int{CapacityGPUMilli: 1000}, "shared": true}
	if n.Model != "" {
		set["attributes"] = map[string]string{AttributeModel: n.Model}
	}
	b, _ := json.Marshal([]any{set}) // maps marshal in key order
	return string(b)
}

// shape is what a GPU pod asks for; pods of one shape share a ResourceClaimTemplate.
type shape struct {
	count, milli int64
	models       string // the sorted, distinct models joined with "|"; "" for any
}

func (p Pod) shape() shape {
	models := slices.Compact(slices.Sorted(slices.Values(p.GPUModels)))
	return shape{count: p.NumGPU, milli: p.GPUMilli, models: strings.Join(models, "|")}
}

// templateName is the shape's ResourceClaimTemplate: gpu-<count>x<milli>, and when models
// are named a hash of them, since models are label values (upper case, "_") that an object
// name cannot hold and a list of them can be long.
func (s shape) templateName() string {
	name := fmt.Sprintf("gpu-%dx%d", s.count, s.milli)
	if s.models != "" {
		h := fnv.New32a()
		h.Write([]byte(s.models))
		name += fmt.Sprintf("-%08x", h.Sum32())
	}
	return name
}

// selector is the CEL expression that keeps the shape's models. has() first: a card
// without the attribute is not a match, where reading a missing attribute is an error.
func (s shape) selector() string {
	attr := fmt.Sprintf("device.attributes[%q]", GPUDriver)
	var quoted []string
	for _, m := range strings.Split(s.models, "|") {
		quoted = append(quoted, strconv.Quote(m))
	}
	return fmt.Sprintf("has(%s.%s) && %s.%s in [%s]", attr, AttributeModel, attr, AttributeModel, strings.Join(quoted, ", "))
}

// The setup objects are written from small types, as the nodes and pods are (manifest.go).

type deviceClassManifest struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   objectMeta      `json:"metadata"`
	Spec       deviceClassSpec `json:"spec"`
}

type deviceClassSpec struct {
	Selectors []selector `json:"selectors"`
}

type selector struct {
	CEL celSelector `json:"cel"`
}

type celSelector struct {
	Expression string `json:"expression"`
}

type claimTemplateManifest struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   objectMeta        `json:"metadata"`
	Spec       claimTemplateSpec `json:"spec"`
}

type claimTemplateSpec struct {
	Spec claimSpec `json:"spec"`
}

type claimSpec struct {
	Devices deviceClaim `json:"devices"`
}

type deviceClaim struct {
	Requests []deviceRequest `json:"requests"`
}

type deviceRequest struct {
	Name    string        `json:"name"`
	Exactly exactlyDevice `json:"exactly"`
}

type exactlyDevice struct {
	DeviceClassName string      `json:"deviceClassName"`
	AllocationMode  string      `json:"allocationMode"`
	Count           int64       `json:"count"`
	Selectors       []selector  `json:"selectors,omitempty"`
	Capacity        capacityReq `json:"capacity"`
}

type capacityReq struct {
	Requests resourceList `json:"requests"`
}

func deviceClass() *deviceClassManifest {
	return &deviceClassManifest{APIVersion: "resource.k8s.io/v1", Kind: "DeviceClass",
		Metadata: objectMeta{Name: DeviceClassName},
		Spec:     deviceClassSpec{Selectors: []selector{{CEL: celSelector{Expression: fmt.Sprintf("device.driver == %q", GPUDriver)}}}}}
}

// claimTemplate asks for count cards of the class, each with milli of its gpuMilli: part of
// one card below 1000, whole cards at 1000 (a shared card with all its capacity taken has
// room for no one else).
func (s shape) claimTemplate() *claimTemplateManifest {
	req := exactlyDevice{DeviceClassName: DeviceClassName, AllocationMode: "ExactCount", Count: s.count,
		Capacity: capacityReq{Requests: resourceList{CapacityGPUMilli: strconv.FormatInt(s.milli, 10)}}}
	if s.models != "" {
		req.Selectors = []selector{{CEL: celSelector{Expression: s.selector()}}}
	}
	return &claimTemplateManifest{APIVersion: "resource.k8s.io/v1", Kind: "ResourceClaimTemplate",
		Metadata: objectMeta{Name: s.templateName(), Namespace: "default"},
		Spec:     claimTemplateSpec{Spec: claimSpec{Devices: deviceClaim{Requests: []deviceRequest{{Name: claimName, Exactly: req}}}}}}
}

// setup is what the trace applies at t=0 before any pod: the DeviceClass, then one
// ResourceClaimTemplate per shape, in name order. Two shapes whose model lists hash to one
// name are an error: the second would otherwise be applied over the first.
func setup(pods []Pod) ([]any, error) {
	seen := map[shape]bool{}
	var shapes []shape
	for _, p := range pods {
		if p.NumGPU == 0 {
			continue
		}
		if s := p.shape(); !seen[s] {
			seen[s] = true
			shapes = append(shapes, s)
		}
	}
	slices.SortFunc(shapes, func(a, b shape) int { return cmp.Compare(a.templateName(), b.templateName()) })
	out := []any{deviceClass()}
	for i, s := range shapes {
		if i > 0 && shapes[i-1].templateName() == s.templateName() {
			return nil, fmt.Errorf("gpu_spec %q and %q give the same ResourceClaimTemplate name %s (a hash collision); rename a model",
				shapes[i-1].models, s.models, s.templateName())
		}
		out = append(out, s.claimTemplate())
	}
	return out, nil
}

// claimRefs are a GPU pod's claim, made from its shape's template, and its container's use
// of it.
func (p Pod) claimRefs() ([]corev1.PodResourceClaim, []corev1.ResourceClaim) {
	return []corev1.PodResourceClaim{{Name: claimName, ResourceClaimTemplateName: new(p.shape().templateName())}},
		[]corev1.ResourceClaim{{Name: claimName}}
}
