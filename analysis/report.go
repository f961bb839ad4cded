package analysis

// APIVersion and ReportKind identify the report format.
const (
	APIVersion = "kwoksim/v1alpha1"
	ReportKind = "Report"
)

// Report is what one run tells: the JSON contract of `kwoksim run -o json`. Every field except
// Runtime and Provenance is a pure function of the inputs and the seed.
type Report struct {
	APIVersion       string  `json:"apiVersion"`
	Kind             string  `json:"kind"`
	Seed             uint64  `json:"seed"`
	SimulatedSeconds float64 `json:"simulatedSeconds"`
	// Incomplete marks the report of a run stopped before its end (an interrupt):
	// SimulatedSeconds is the virtual time it reached.
	Incomplete bool         `json:"incomplete"`
	Summary    Summary      `json:"summary"`
	Pods       []PodReport  `json:"pods"`
	Nodes      []NodeReport `json:"nodes"`
	// Transitions counts the executed stages per kind and stage, with their delays.
	Transitions []TransitionReport `json:"transitions"`
	// TraceErrors are the trace events that could not be carried out (an object that does
	// not exist, a change the apiserver rejected); the run went on without them.
	TraceErrors []TraceErrorReport `json:"traceErrors"`
	// Warnings are what the simulated controllers could not do (a sync that failed, a
	// dependent not deleted), each distinct warning once with its count; the run went on
	// without it.
	Warnings []WarningReport `json:"warnings"`
	// Workloads are the workload objects at the end of the run, by kind, namespace and name,
	// each with its counts and conditions, and whether it is failing (see WorkloadReport).
	Workloads []WorkloadReport `json:"workloads"`
	// Evictions counts the evicted pods by reason (see EvictionReport); DisruptionBudgets
	// lists the PodDisruptionBudgets with the evictions each refused; Drains the drains of
	// nodes. Each is left out of the JSON when empty; assertions see an empty list then.
	Evictions         []EvictionReport         `json:"evictions,omitempty" report:"always"`
	DisruptionBudgets []DisruptionBudgetReport `json:"disruptionBudgets,omitempty" report:"always"`
	Drains            []DrainReport            `json:"drains,omitempty" report:"always"`
	// WorkloadSizes are the workload objects that existed during the run (deleted ones
	// included), by kind, namespace and name, each with its sizes after every write that
	// changed them; NodeHistory the nodes, by name, each with its Ready status and taints
	// after every write that changed them. Left out of the JSON when empty; assertions see an
	// empty list then.
	WorkloadSizes []WorkloadSizesReport `json:"workloadSizes,omitempty" report:"always"`
	NodeHistory   []NodeHistoryReport   `json:"nodeHistory,omitempty" report:"always"`
	// Skipped counts the input objects left out (kinds the simulator does not serve, custom
	// resources, Helm hooks), per apiVersion, kind and reason; absent when none were.
	Skipped []SkippedKind `json:"skipped,omitempty"`
	// NotActedOn counts the input objects the simulator stores (or reads, as NodePools) but
	// no simulated controller acts on, with what a real cluster would do; absent when there
	// are none.
	NotActedOn []NotActedOnKind `json:"notActedOn,omitempty"`
	// Notes say what was added to the inputs as a real cluster would add it (labels the
	// kubelet sets on a Node it registers), and what else a reader should know of the run
	// (the autoscaler kwoksim chose, gates that made it not reproducible); absent when there
	// is nothing to say.
	Notes []string `json:"notes,omitempty"`
	// Arrivals is what a trace replay tells of the pods it created (see ArrivalsReport); left
	// out of the JSON unless the run was given --arrivals-only or --until-unschedulable,
	// which assertions see as zero counts.
	Arrivals *ArrivalsReport `json:"arrivals,omitempty" report:"always"`
	// Volumes is what the run tells of PersistentVolumeClaims (see VolumesReport); left out of
	// the JSON when the run had no claims, which assertions see as zero counts and empty
	// lists.
	Volumes *VolumesReport `json:"volumes,omitempty" report:"always"`
	// Autoscaling is what the node autoscaler did and what the pools cost (see
	// AutoscalingReport); left out of the JSON when the run had no autoscaler.
	Autoscaling *AutoscalingReport `json:"autoscaling,omitempty" report:"always"`
	// HorizontalPodAutoscalers is what the HorizontalPodAutoscaler controller did with each
	// HPA (see HPAReport); left out of the JSON when the run had no HPA.
	HorizontalPodAutoscalers *HPAReport `json:"horizontalPodAutoscalers,omitempty" report:"always"`
	// Usage is what the pods with usage data used beside what they requested (see
	// UsageReport); left out of the JSON when no pod had usage data.
	Usage *UsageReport `json:"usage,omitempty" report:"always"`
	// GPU is what the run tells of the cluster's GPUs: allocated and stranded GPU at the end
	// and over time (see GPUReport); left out of the JSON when no node had a GPU.
	GPU *GPUReport `json:"gpu,omitempty" report:"always"`
	// Latency is how long pods waited, in virtual seconds: created → bound (scheduling) and
	// created → Running (startup), over the pods that got there.
	Latency Latency `json:"latency"`
	// Attempts is the distribution of scheduling attempts per pod the scheduler saw.
	Attempts Distribution `json:"attempts"`
	// Utilization is, per resource, the spread across nodes of requested/allocatable at the
	// end of the run.
	Utilization map[string]UtilizationStats `json:"utilization"`
	// UnschedulableReasons groups the unschedulable pods by the scheduler's message and its
	// structured outcome, most frequent first, then by reason.
	UnschedulableReasons []ReasonCount `json:"unschedulableReasons"`
	// Timeseries samples the cluster on virtual time.
	Timeseries Timeseries `json:"timeseries"`
	// OverTime is the peak and time-weighted mean, over the whole run, of pods running,
	// pending and bound, nodes used and the cluster's utilization per resource, beside their
	// final values (see OverTime).
	OverTime OverTime `json:"overTime"`
	Runtime  Runtime  `json:"runtime"`
	// Provenance is the command line, input files and kwoksim build of the run (see
	// Provenance); absent from a report built by other means than `kwoksim run`.
	Provenance *Provenance `json:"provenance,omitempty"`
}

// Latency holds the pod latency distributions.
type Latency struct {
	Scheduling Distribution `json:"scheduling"`
	Startup    Distribution `json:"startup"`
}

// Distribution is the empirical p50, p90, p99 and max of Count observations (all zero when
// Count is 0).
type Distribution struct {
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
	Count int     `json:"count"`
}

// UtilizationStats is the mean, population standard deviation and maximum of one resource's
// utilization (requested/allocatable, 0..1) across the Nodes nodes that offer the resource
// (allocatable above zero).
type UtilizationStats struct {
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
	Max    float64 `json:"max"`
	Nodes  int     `json:"nodes"`
}

// ReasonCount is how many pods were left unschedulable with one reason, and the scheduler's
// structured outcome behind it (see SchedulingOutcome).
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
	// Code is the status code of the failed cycle ("Unschedulable", "Error", …); empty for
	// the pods no profile takes, which the scheduler never tried.
	Code string `json:"code"`
	// Plugins are the plugins that rejected the pods, sorted; empty for a failure that is
	// not a fit error.
	Plugins []string `json:"plugins"`
	// PendingPlugins are the plugins that marked the pods Pending, sorted.
	PendingPlugins []string `json:"pendingPlugins,omitempty"`
	// Nodes is how many nodes the scheduler considered (its "0/N nodes are available"); 0
	// when the failure is not a fit error.
	Nodes int `json:"nodes"`
	// PluginNodes counts, per plugin, the nodes that plugin rejected, sorted by plugin.
	PluginNodes []PluginNodes `json:"pluginNodes"`
}

// PluginNodes is how many nodes one plugin rejected in a failed scheduling cycle.
type PluginNodes struct {
	Plugin string `json:"plugin"`
	Nodes  int    `json:"nodes"`
}

// Timeseries is the cluster sampled at the virtual times T (seconds). Every slice has len(T)
// entries; Utilization is cluster-wide requested/allocatable per resource.
type Timeseries struct {
	T           []float64            `json:"t"`
	Pending     []int                `json:"pending"`
	Running     []int                `json:"running"`
	Succeeded   []int                `json:"succeeded"`
	Failed      []int                `json:"failed"`
	ReadyNodes  []int                `json:"readyNodes"`
	Utilization map[string][]float64 `json:"utilization"`
	// GPU is the gpu section's allocation and stranded shares at the same times; absent when
	// the report has no gpu section.
	GPU *GPUSeries `json:"gpu,omitempty"`
}

// Summary counts pods and nodes at the end of the run.
type Summary struct {
	Pods      PodSummary      `json:"pods"`
	Nodes     NodeSummary     `json:"nodes"`
	Workloads WorkloadSummary `json:"workloads"`
	// Evictions counts the pods evicted (see Report.Evictions); left out of the JSON when 0,
	// which assertions see as 0.
	Evictions int `json:"evictions,omitempty" report:"always"`
}

// PodSummary counts pods. Scheduled counts pods that were ever bound; Unschedulable counts
// existing pods left unbound with a reason: the scheduler rejected them, or no profile of the
// scheduler takes them; Gated counts existing pods the scheduling queue holds before any
// attempt (scheduling gates, another PreEnqueue plugin); Deleted and the phase counts (of the
// pods that still exist) partition Total.
type PodSummary struct {
	Total         int `json:"total"`
	Scheduled     int `json:"scheduled"`
	Unschedulable int `json:"unschedulable"`
	Gated         int `json:"gated"`
	Pending       int `json:"pending"`
	Running       int `json:"running"`
	Succeeded     int `json:"succeeded"`
	Failed        int `json:"failed"`
	Deleted       int `json:"deleted"`
}

// NodeSummary counts the nodes that exist at the end of the run, those whose Ready condition
// is True, and those used: holding at least one bound pod that has not terminated.
type NodeSummary struct {
	Total int `json:"total"`
	Ready int `json:"ready"`
	Used  int `json:"used"`
}

// PodReport is one pod. Times are virtual seconds since the start; nil means never.
type PodReport struct {
	Namespace           string   `json:"namespace"`
	Name                string   `json:"name"`
	Node                string   `json:"node"`
	Phase               string   `json:"phase"`
	CreatedAt           *float64 `json:"createdAt"`
	ScheduledAt         *float64 `json:"scheduledAt"`
	RunningAt           *float64 `json:"runningAt"`
	DeletedAt           *float64 `json:"deletedAt"`
	Attempts            int      `json:"attempts"`
	UnschedulableReason string   `json:"unschedulableReason"`
	// Restored is true for a pod that existed before the run (loaded from a snapshot); its
	// createdAt is null.
	Restored bool `json:"restored,omitempty"`
	// GatedReason is why the scheduling queue holds the unbound pod before any attempt: the
	// PreEnqueue plugin and its message ("SchedulingGates: waiting for scheduling gates:
	// [name]"); left out for a pod not held (test with has(p.gatedReason)).
	GatedReason string `json:"gatedReason,omitempty"`
	// TerminatingAt is when the pod was marked for deletion (deletionTimestamp) or deleted,
	// the earlier; DeletionRequestedAt is the same time under the name the fidelity
	// comparison reads (the write that requested the deletion, graceful or not); EvictedAt when it was evicted, with EvictionReason the reason of its
	// DisruptionTarget condition ("DeletionByTaintManager", …). Left out when they did not
	// happen (test with has(p.evictedAt)).
	TerminatingAt       *float64 `json:"terminatingAt,omitempty"`
	DeletionRequestedAt *float64 `json:"deletionRequestedAt,omitempty"`
	EvictedAt           *float64 `json:"evictedAt,omitempty"`
	EvictionReason      string   `json:"evictionReason,omitempty"`
	// outcome is the structured form of UnschedulableReason, which unschedulableReasons
	// reports; nil when the scheduler gave none. It is not part of the pod's JSON.
	outcome *SchedulingOutcome
}

// NodeReport is one node: what it offers and what the pods bound to it request.
type NodeReport struct {
	Name        string            `json:"name"`
	Ready       bool              `json:"ready"`
	Pods        int               `json:"pods"`
	Allocatable map[string]string `json:"allocatable"`
	Requested   map[string]string `json:"requested"`
	// Taints are the node's taints as key=value:Effect.
	Taints []string `json:"taints,omitempty"`
	// Utilization is requested/allocatable per resource the node offers (0 when it offers
	// none of it).
	Utilization map[string]float64 `json:"utilization"`
}

// Runtime describes the run itself; it is the only part that differs between runs.
type Runtime struct {
	WallSeconds     float64 `json:"wallSeconds"`
	EventsProcessed int64   `json:"eventsProcessed"`
}
