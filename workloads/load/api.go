package load

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kwoksim/kwoksim/autoscaling/hpa"
	"github.com/kwoksim/kwoksim/sim"
)

// The usage annotations of a pod (or a workload's pod template).
const (
	CPUUsageAnnotation    = "kwoksim.io/cpu-usage"
	MemoryUsageAnnotation = "kwoksim.io/memory-usage"
)

// attachKey is the model's key on the simulator.
const attachKey = "kwoksim.io/load"

// Model is the load model of one run.
type Model struct {
	s *sim.Simulator
}

// Of returns the simulator's load model, making and attaching it on the first call, which
// must come before the run's pods exist (workloads.Install makes it).
func Of(s *sim.Simulator) *Model {
	if m, ok := s.Attached(attachKey).(*Model); ok {
		return m
	}
	m := &Model{s: s}
	s.Attach(attachKey, m)
	return m
}

// Ref names a workload.
type Ref struct{ Kind, Namespace, Name string }

// SetDemand is the trace's load operation: from now on the workload's pods share cpu and
// memory (nil leaves that resource's demand as it was). The workload must exist.
func (m *Model) SetDemand(ref Ref, cpu, memory *resource.Quantity) error {
	panic("load: SetDemand not implemented yet")
}

// Metrics answers the resource metrics API for the HPA controller: the pods of namespace
// that selector matches, Running, with usage data for the resource, each with its usage now
// (summed over its containers; container names one container, and a pod's usage is then
// all that container's), Timestamp now and Window the metric window. No such pod is the
// metrics API's error "no metrics returned from resource metrics API".
func (m *Model) Metrics(namespace string, selector labels.Selector, res corev1.ResourceName, container string) (hpa.PodMetrics, error) {
	panic("load: Metrics not implemented yet")
}
