// Package openb imports the Alibaba GPU cluster trace "openb" (alibaba/clusterdata,
// cluster-trace-gpu-v2023) into kwoksim's inputs: a multi-document nodes.yaml of Node
// manifests and a trace.jsonl of timed Pod creations and deletions.
//
// The mapping is a contract that simulations are compared across, so it is spelt out here.
// With Options.GPU = GPUPooled (the default, --gpu pooled):
//
//   - A node row (sn, cpu_milli, memory_mib, gpu, model) becomes a Node named sn with equal
//     capacity and allocatable: cpu in millicores, memory in Mi, 256 pods and, when gpu > 0,
//     gpu×1000 of the extended resource kwoksim.io/gpu-milli. A non-empty model becomes the
//     label kwoksim.io/gpu-model.
//   - A pod row becomes a Pod in namespace default with one container "main" (image "openb")
//     requesting cpu_milli and memory_mib. When num_gpu > 0 it also requests
//     num_gpu×gpu_milli of kwoksim.io/gpu-milli, with an equal limit, as Kubernetes requires for
//     extended resources. A gpu_spec "A|B" becomes the required node affinity
//     kwoksim.io/gpu-model In [A, B]; qos becomes the informational label kwoksim.io/qos.
//   - The Pod is applied at creation_time and, when deletion_time is set, deleted then. Times
//     are whole seconds from the start of the trace.
//
// With Options.GPU = GPUDRA (kwoksim import openb --gpu dra) GPUs are devices instead
// (Dynamic Resource Allocation, simulated by workloads/devices and workloads/dradriver):
//
//   - A node with gpu > 0 gets no kwoksim.io/gpu-milli; it gets the annotation
//     kwoksim.io/devices with one device set of driver gpu.kwoksim.io: gpu cards named
//     gpu-0 …, shared (allowMultipleAllocations), capacity gpuMilli: 1000 each, attribute
//     model from model when non-empty. The kwoksim.io/gpu-model label stays. At most 1024
//     cards per node (the annotation's bound).
//   - A pod with num_gpu > 0 requests no kwoksim.io/gpu-milli; its spec.resourceClaims has
//     one claim "gpu" from a ResourceClaimTemplate, which its container lists in
//     resources.claims. The template asks the DeviceClass "gpu" (every device of
//     gpu.kwoksim.io) for exactly num_gpu devices with a capacity request of gpu_milli
//     gpuMilli each: part of one card below 1000, whole cards at 1000. A gpu_spec "A|B"
//     becomes the template's CEL selector
//     has(device.attributes["gpu.kwoksim.io"].model) && device.attributes["gpu.kwoksim.io"].model in ["A", "B"]
//     instead of node affinity (a pod without GPUs keeps the affinity).
//   - Pods of one shape (num_gpu, gpu_milli, the set of gpu_spec models) share a template,
//     named gpu-<num_gpu>x<gpu_milli>, followed by -<FNV-32a hash of the sorted models
//     joined with "|"> when gpu_spec names models.
//   - The DeviceClass and the templates are the first lines of trace.jsonl, applied at t=0
//     before any pod (the class, then the templates by name), so that the run takes the
//     same two files as the pooled mapping. Claims are made from the templates by the
//     resource claim controller.
//
// pod_phase and scheduled_time are what happened in Alibaba's cluster, not inputs to a
// simulation, so they are neither required nor read.
package openb
