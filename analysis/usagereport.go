package analysis

// UsageReport is the report's usage section (issue 22): what the pods with usage data (a load
// operation or the usage annotations) used, beside what they requested and what the nodes
// offered. Usage here is what the pods demand: their shares of the loads and their
// annotations, before their CPU limits and the contention of a crowded node bound the CPU
// they get (workloads/load, throttle.go), which is what the HPA reads; a utilization by usage
// above 1 is demand the nodes could not serve. Left out of the JSON when no pod had usage data (assertions then see zeros and
// empty lists). Built from the UsageRecord and the node history by usageReport. Every figure
// over time follows the exact step functions over [0, simulatedSeconds], 0 before the first
// change, as OverTime's do.
type UsageReport struct {
	// CPU is in cores, Memory in bytes.
	CPU    UsageResourceReport `json:"cpu"`
	Memory UsageResourceReport `json:"memory"`
	// Workloads are the workloads whose pods had usage data, in the order they first had some.
	Workloads []WorkloadUsageReport `json:"workloads"`
	// OverTime is the cluster after every instant that changed its usage, its requests or its
	// allocatable, from t=0.
	OverTime []UsagePoint `json:"overTime"`
}

// UsageResourceReport is one resource over the run.
type UsageResourceReport struct {
	// Usage is what the pods with usage data used; Requested what the same pods requested
	// while they used it.
	Usage     OverTimeFigure `json:"usage"`
	Requested OverTimeFigure `json:"requested"`
	// UtilizationByUsage is Usage / the allocatable of the existing nodes; UtilizationByRequests
	// Requested / the same allocatable: how full the cluster is by what the pods use beside
	// how full it is by what they reserve (0 while no node offers the resource). The
	// requests of every bound pod over the allocatable are overTime.utilization.
	UtilizationByUsage    OverTimeFigure `json:"utilizationByUsage"`
	UtilizationByRequests OverTimeFigure `json:"utilizationByRequests"`
}

// WorkloadUsageReport is one workload's usage over the run.
type WorkloadUsageReport struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// CPU is in cores, Memory in bytes.
	CPU    WorkloadResourceUsage `json:"cpu"`
	Memory WorkloadResourceUsage `json:"memory"`
	// PeakReadyPods is the most pods that shared its demand at once (Ready, not terminating).
	PeakReadyPods int32 `json:"peakReadyPods"`
	// Loads are the trace's load operations on it, in time order.
	Loads []LoadStepReport `json:"loads"`
}

// WorkloadResourceUsage is one resource of one workload.
type WorkloadResourceUsage struct {
	// Peak and Mean are its pods' usage: the largest, and the time-weighted mean over the run.
	Peak float64 `json:"peak"`
	Mean float64 `json:"mean"`
	// UsageToRequests is the time-weighted mean of usage / requests over the time its pods
	// requested some of the resource (0 if they never did): 1 is pods using exactly what
	// they reserve.
	UsageToRequests float64 `json:"usageToRequests"`
}

// LoadStepReport is one load operation: the demand it set from At on, CPU in cores and Memory
// in bytes; a resource the operation left as it was is absent.
type LoadStepReport struct {
	At     float64  `json:"at"`
	CPU    *float64 `json:"cpu,omitempty"`
	Memory *float64 `json:"memory,omitempty"`
}

// UsagePoint is the cluster from At on: the usage and requests of the pods with usage data
// and the allocatable of the existing nodes, CPU in cores and memory in bytes.
type UsagePoint struct {
	At                float64 `json:"at"`
	CPU               float64 `json:"cpu"`
	Memory            float64 `json:"memory"`
	RequestedCPU      float64 `json:"requestedCPU"`
	RequestedMemory   float64 `json:"requestedMemory"`
	AllocatableCPU    float64 `json:"allocatableCPU"`
	AllocatableMemory float64 `json:"allocatableMemory"`
}
