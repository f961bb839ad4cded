// Package openb imports the Alibaba GPU cluster trace "openb" (alibaba/clusterdata,
// cluster-trace-gpu-v2023) into kwoksim's inputs: a multi-document nodes.yaml of Node
// manifests and a trace.jsonl of timed Pod creations and deletions.
//
// The mapping is a contract that simulations are compared across, so it is spelt out here:
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
// pod_phase and scheduled_time are what happened in Alibaba's cluster, not inputs to a
// simulation, so they are neither required nor read.
package openb
