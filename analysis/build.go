package analysis

import (
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	resourcehelper "k8s.io/component-helpers/resource"
)

// PodRecord is what a run observed of one pod.
type PodRecord struct {
	// Pod is its last state (at the end of the run, or when it was deleted).
	Pod                               *corev1.Pod
	CreatedAt, ScheduledAt, RunningAt *time.Duration
	Attempts                          int
	// Reason is the scheduler's message from the pod's last failed attempt, and Outcome the
	// structured outcome of that attempt; Outcome is nil when Reason is not the scheduler's
	// (a pod no profile takes) or the pod never failed.
	Reason  string
	Outcome *SchedulingOutcome
	// DeletedAt is when the pod went away for good; nil while it exists.
	DeletedAt *time.Duration
	// TerminatingAt is when the pod first carried a deletionTimestamp (graceful deletion),
	// or went away without one; nil while neither happened.
	TerminatingAt *time.Duration
	// EvictedAt is when the pod, being deleted or marked for deletion, carried a True
	// DisruptionTarget condition, and EvictionReason that condition's reason
	// ("DeletionByTaintManager", "PreemptionByScheduler", …): it was evicted, not merely
	// deleted. Both are unset for a pod deleted without the condition.
	EvictedAt      *time.Duration
	EvictionReason string
	// Restored marks a pod that existed before the run (loaded from a snapshot): CreatedAt is
	// nil, so it counts in no latency, and it is bound or Running from the start if it was.
	Restored bool
	// Gated is why the scheduling queue holds the pod before any attempt (see
	// PodReport.GatedReason); empty when it does not.
	Gated string
}

// Observation is everything a report is built from.
type Observation struct {
	Seed    uint64
	Elapsed time.Duration
	Pods    []PodRecord
	// Nodes are the nodes that exist at the end of the run.
	Nodes []*corev1.Node
	// Transitions is the stage transition log, in execution order.
	Transitions []TransitionRecord
	// TransitionTallies count the transitions elided from the log (see TransitionTally).
	TransitionTallies []TransitionTally
	// TraceErrors are the trace events that could not be carried out, in order.
	TraceErrors []TraceErrorRecord
	// Warnings are the simulated controllers' warnings, in the order they were raised.
	Warnings []WarningRecord
	// Workloads are the workload objects (DaemonSets, Deployments, Jobs, ReplicaSets,
	// StatefulSets) that exist at the end of the run, by kind, namespace and name.
	Workloads []runtime.Object
	// SyncFailures are the objects whose controller's last sync failed, with that failure,
	// by kind, namespace and name.
	SyncFailures []WarningRecord
	// RefusedEvictions are the evictions a PodDisruptionBudget refused, in order.
	RefusedEvictions []RefusedEvictionRecord
	// Drains are the drains of nodes, in the order they started.
	Drains []DrainRecord
	// Budgets are the PodDisruptionBudgets that exist at the end of the run, by namespace
	// and name.
	Budgets []*policyv1.PodDisruptionBudget
	// History is the change log the time series is swept from.
	History History
	// WorkloadSizes are the workload objects that existed during the run, with their sizes
	// over time, in the order they were created; NodeHistory the nodes, with their Ready
	// status and taints over time, likewise.
	WorkloadSizes []WorkloadSizeRecord
	NodeHistory   []NodeHistoryRecord
	// Claims are the PersistentVolumeClaims that existed during the run, in the order they
	// were created.
	Claims []ClaimRecord
	// Autoscaler is what the node autoscaler did; nil when the run had none.
	Autoscaler *AutoscalerRecord
	// HPAs are what the HorizontalPodAutoscaler controller did, one record per HPA that
	// existed during the run, in the order they were created.
	HPAs []*HPARecord
	// Usage is the load model's record of what pods used; nil when no pod had usage data.
	Usage *UsageRecord
	// GPU is what the recorder saw of the cluster's GPUs; nil when no node had one.
	GPU *GPURecord
	// SampleInterval is the time series' step; 0 picks one from Elapsed (see
	// DefaultSampleInterval). CheckSampleInterval tells whether a given one is usable.
	SampleInterval time.Duration
}

// Build computes the report of a run. Runtime is left for the caller to fill in.
func Build(o Observation) *Report {
	r := &Report{
		APIVersion:       APIVersion,
		Kind:             ReportKind,
		Seed:             o.Seed,
		SimulatedSeconds: o.Elapsed.Seconds(),
		Pods:             make([]PodReport, 0, len(o.Pods)),
		Nodes:            make([]NodeReport, 0, len(o.Nodes)),
	}
	type usage struct {
		pods     int
		requests corev1.ResourceList
	}
	perNode := map[string]*usage{}
	for _, rec := range o.Pods {
		p := rec.Pod
		pr := PodReport{
			Namespace:   p.Namespace,
			Name:        p.Name,
			Node:        p.Spec.NodeName,
			Phase:       string(p.Status.Phase),
			CreatedAt:   seconds(rec.CreatedAt),
			ScheduledAt: seconds(rec.ScheduledAt),
			RunningAt:   seconds(rec.RunningAt),
			DeletedAt:   seconds(rec.DeletedAt),
			Attempts:    rec.Attempts,
			Restored:    rec.Restored,

			TerminatingAt:  seconds(rec.TerminatingAt),
			EvictedAt:      seconds(rec.EvictedAt),
			EvictionReason: rec.EvictionReason,
		}
		// The same time under the name the fidelity comparison reads; shared, not copied.
		pr.DeletionRequestedAt = pr.TerminatingAt
		if pr.Node == "" {
			pr.UnschedulableReason, pr.outcome = rec.Reason, rec.Outcome
			pr.GatedReason = rec.Gated
		}
		deleted := rec.DeletedAt != nil
		r.Pods = append(r.Pods, pr)
		s := &r.Summary.Pods
		s.Total++
		if pr.ScheduledAt != nil {
			s.Scheduled++
		}
		if pr.Node == "" && pr.UnschedulableReason != "" && !deleted {
			s.Unschedulable++
		}
		if gated(pr) {
			s.Gated++
		}
		if rec.EvictedAt != nil {
			r.Summary.Evictions++
		}
		switch {
		case deleted:
			s.Deleted++
		case p.Status.Phase == corev1.PodRunning:
			s.Running++
		case p.Status.Phase == corev1.PodSucceeded:
			s.Succeeded++
		case p.Status.Phase == corev1.PodFailed:
			s.Failed++
		default:
			s.Pending++
		}
		if deleted || p.Spec.NodeName == "" || terminal(p) {
			continue
		}
		u := perNode[p.Spec.NodeName]
		if u == nil {
			u = &usage{requests: corev1.ResourceList{}}
			perNode[p.Spec.NodeName] = u
		}
		u.pods++
		addResources(u.requests, resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{}))
	}
	sort.SliceStable(r.Pods, func(i, j int) bool {
		a, b := r.Pods[i], r.Pods[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	for _, n := range o.Nodes {
		u := perNode[n.Name]
		if u == nil {
			u = &usage{requests: corev1.ResourceList{}}
		}
		nr := NodeReport{
			Name:        n.Name,
			Ready:       nodeReady(n),
			Pods:        u.pods,
			Allocatable: map[string]string{},
			Requested:   map[string]string{},
		}
		for _, t := range n.Spec.Taints {
			nr.Taints = append(nr.Taints, t.ToString())
		}
		for name, q := range n.Status.Allocatable {
			nr.Allocatable[string(name)] = q.String()
			nr.Requested[string(name)] = "0"
		}
		for name, q := range u.requests {
			nr.Requested[string(name)] = q.String()
		}
		podCount := resource.NewQuantity(int64(u.pods), resource.DecimalSI)
		nr.Requested[string(corev1.ResourcePods)] = podCount.String()
		u.requests[corev1.ResourcePods] = *podCount
		nr.Utilization = nodeUtilization(n.Status.Allocatable, u.requests)
		r.Nodes = append(r.Nodes, nr)
		r.Summary.Nodes.Total++
		if nr.Ready {
			r.Summary.Nodes.Ready++
		}
		if nr.Pods > 0 {
			r.Summary.Nodes.Used++
		}
	}
	sort.SliceStable(r.Nodes, func(i, j int) bool { return r.Nodes[i].Name < r.Nodes[j].Name })
	r.Transitions = transitionReports(o.Transitions, o.TransitionTallies)
	r.TraceErrors = traceErrorReports(o.TraceErrors)
	r.Warnings = warningReports(o.Warnings)
	r.Workloads, r.Summary.Workloads = workloadReports(o.Workloads, o.SyncFailures)
	for i, ds := range workloadDisruptions(o, r.Workloads) {
		r.Workloads[i].Disruptions = ds
	}
	var waits map[int]PodVolumeWait
	r.Volumes, waits = volumesReport(o.Claims, o.Pods)
	if len(waits) > 0 {
		workloadVolumeWaits(r.Workloads, podOwners(o.Pods, o.Workloads, r.Workloads), o.Pods, waits)
	}
	r.Autoscaling = autoscalingReport(o.Autoscaler, o.Pods, o.Elapsed)
	r.HorizontalPodAutoscalers = hpaReport(o.HPAs, o.Elapsed)
	r.Usage = usageReport(o.Usage, o.History, o.Elapsed)
	r.Evictions = evictionReports(o.Pods)
	r.DisruptionBudgets = budgetReports(o.Budgets, o.RefusedEvictions)
	r.Drains = drainReports(o.Drains, o.Elapsed)
	r.WorkloadSizes = workloadSizeReports(o.WorkloadSizes)
	r.NodeHistory = nodeHistoryReports(o.NodeHistory)
	r.Latency, r.Attempts = latencies(o.Pods)
	r.Utilization = utilizationStats(r.Nodes)
	r.UnschedulableReasons = unschedulableReasons(r)
	r.Timeseries, r.OverTime = sweep(o)
	if o.GPU != nil {
		interval := o.SampleInterval
		if interval <= 0 {
			interval = DefaultSampleInterval(o.Elapsed)
		}
		r.GPU, r.Timeseries.GPU = buildGPU(o.GPU, o.Elapsed, sampleTimes(o.Elapsed, interval))
	}
	return r
}

func seconds(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	s := d.Seconds()
	return &s
}

func terminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func addResources(total, add corev1.ResourceList) {
	for name, q := range add {
		if cur, ok := total[name]; ok {
			cur.Add(q)
			total[name] = cur
		} else {
			total[name] = q.DeepCopy()
		}
	}
}
