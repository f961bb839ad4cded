package load

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kwoksim/kwoksim/autoscaling/hpa"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// The usage annotations of a pod (or a workload's pod template). The input loader checks
// them (workloads/manifest), so that a bad one is bad input before the run.
const (
	CPUUsageAnnotation    = manifest.CPUUsageAnnotation
	MemoryUsageAnnotation = manifest.MemoryUsageAnnotation
)

// attachKey is the model's key on the simulator.
const attachKey = "kwoksim.io/load"

// Model is the load model of one run.
type Model struct {
	s *sim.Simulator
	// loaded are the workloads a load operation gave a demand, by namespace, in the order
	// of their first operation; byRef finds them.
	loaded map[string][]*workload
	byRef  map[Ref]*workload
	// pods are the pods the model follows, by namespace and name: those with usage
	// annotations and those a loaded workload selects.
	pods map[string]map[string]*pod
	// The cluster's totals (see account): demandUse is the loaded workloads' demands that
	// have Ready pods to share them, demandReq what those Ready pods request (each pod once);
	// annoUse and annoReq the same for Running annotated pods.
	demandUse, demandReq, annoUse, annoReq [nres]int64
	// records are the workloads' usage records, in the order they first had usage data.
	records  []*record
	recordOf map[Ref]*record
	// cluster is the cluster's step series (ReadyPods unused).
	cluster []workloadStep
	// dirty are the records a change touched, stepped by flush.
	dirty []*record
	// had is set once a pod had usage data: UsageRecord is nil until then.
	had bool
	// nodeCPU is each node's allocatable CPU in millicores (throttle.go).
	nodeCPU map[string]int64
	// version counts the changes of what the pods use (flush, a node's allocatable); cpuNow
	// is every followed pod's CPU after contention at cpuVersion, reused by the metrics
	// queries until the next change (the HPAs created together reconcile at the same
	// instants).
	version, cpuVersion uint64
	cpuNow              map[string]int64
}

// Of returns the simulator's load model, making and attaching it on the first call, which
// must come before the run's pods exist (workloads.Install makes it).
func Of(s *sim.Simulator) *Model {
	if m, ok := s.Attached(attachKey).(*Model); ok {
		return m
	}
	m := &Model{
		s:        s,
		loaded:   map[string][]*workload{},
		byRef:    map[Ref]*workload{},
		pods:     map[string]map[string]*pod{},
		recordOf: map[Ref]*record{},
		nodeCPU:  map[string]int64{},
	}
	// The cluster's usage starts at 0 from the model's start (t=0 in a run).
	m.cluster = []workloadStep{{UsageStep: usageStep(s.Elapsed())}}
	s.Attach(attachKey, m)
	s.API().Watch(m.observe)
	s.Recorder().Usage(m.usageRecord)
	return m
}

// Ref names a workload.
type Ref struct{ Kind, Namespace, Name string }

func (r Ref) String() string { return r.Kind + " " + r.Namespace + "/" + r.Name }

// LoadKinds are the kinds SetDemand takes: the workloads whose spec.selector names their pods.
var LoadKinds = []string{"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet"}

// SetDemand is the trace's load operation: from now on the workload's pods share cpu and
// memory (nil leaves that resource's demand as it was). The workload must exist.
func (m *Model) SetDemand(ref Ref, cpu, memory *resource.Quantity) error {
	if !slices.Contains(LoadKinds, ref.Kind) {
		return fmt.Errorf("load: kind %q does not select pods; expected one of %v", ref.Kind, LoadKinds)
	}
	k, err := sim.KindNamed(ref.Kind)
	if err != nil {
		return err
	}
	var demand [nres]int64
	var set [nres]bool
	for r, q := range [nres]*resource.Quantity{cpu, memory} {
		if q == nil {
			continue
		}
		if q.Sign() < 0 {
			return fmt.Errorf("load: %s: the demand must not be negative, got %s", resourceNames[r], q)
		}
		demand[r], set[r] = units(r, *q), true
	}
	obj, err := m.s.API().Get(k, ref.Namespace, ref.Name)
	if err != nil {
		// The trace's other operations say "Deployment default/web not found" (trace.explain).
		return fmt.Errorf("%s not found", ref)
	}
	sel, err := selectorOf(obj)
	if err != nil {
		return fmt.Errorf("%s: %v", ref, err)
	}
	m.resync(ref.Namespace, func() {
		w := m.byRef[ref]
		if w == nil {
			w = &workload{ref: ref, rec: m.recordFor(ref)}
			w.rec.w = w
			m.byRef[ref] = w
			m.loaded[ref.Namespace] = append(m.loaded[ref.Namespace], w)
		}
		w.selector = sel
		for r := range nres {
			if set[r] {
				w.demand[r], w.set[r] = demand[r], true
			}
		}
		step := loadStep(m.s.Elapsed(), demand, set)
		w.rec.rec.Loads = append(w.rec.rec.Loads, step)
		m.touch(w.rec)
	})
	return nil
}

// Metrics answers the resource metrics API for the HPA controller: the pods of namespace
// that selector matches, Running, with usage data for the resource, each with its usage now
// (summed over its containers; container names one container, and a pod's usage is then
// that container's share of it, see containerShare), Timestamp now and Window the metric
// window. No such pod is the metrics API's error "no metrics returned from resource metrics
// API"; with container named, a pod without that container is left out, and the answer may
// then be empty without an error, as upstream's is (getContainerMetrics).
func (m *Model) Metrics(namespace string, selector labels.Selector, res corev1.ResourceName, container string) (hpa.PodMetrics, error) {
	return m.metrics(namespace, selector, res, container)
}
