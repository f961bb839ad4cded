// Package devices provides kwoksim's simulated DRA devices: the node annotation
// kwoksim.io/devices, which describes a node's devices in a few lines ("8 × A100-80GB"), read
// (Parse) and rendered as the ResourceSlices a DRA driver's kubelet plugin would publish for
// that node (Slices). The component that publishes them on a simulated cluster is
// workloads/dradriver; this package is pure.
//
// The annotation is a YAML (or JSON) list of device sets:
//
//	kwoksim.io/devices: |
//	  - driver: gpu.kwoksim.io        # default gpu.kwoksim.io
//	    name: gpu                     # devices gpu-0 … gpu-7 (default "gpu")
//	    count: 8                      # default 1
//	    attributes: {model: A100-80GB, memoryGiB: 80}
//	    capacity: {memory: 80Gi}
//	    shared: true                  # allowMultipleAllocations
//
// Attribute values are strings, integers or booleans (stringValue, intValue, boolValue);
// version attributes and lists are not offered. Capacity values are quantities, written as a
// string or a number. Attribute and capacity names follow the API: a C identifier of at most
// 32 characters, or domain/identifier. shared: true sets allowMultipleAllocations, so that
// several claims can each take part of a device's capacity (consumable capacity, the
// DRAConsumableCapacity feature, beta and on in v1.37).
//
// Rendering follows the kubelet plugin's ResourceSlice publisher
// (k8s.io/dynamic-resource-allocation/resourceslice): one pool per driver named after the
// node, spec.nodeName set, and an ownerReference to the Node (controller: true) so that the
// garbage collector deletes the slices with the node. A pool holds at most 128 devices per
// slice (the v1 limit), so a driver with more devices on a node gets several slices of one
// pool, with resourceSliceCount saying how many.
//
// Deliberate deviation: upstream names a slice with generateName
// ("<index>-<driver>-<node>-" plus a random suffix); kwoksim derives the whole name
// (SliceName: "<index>-<driver>-<node>", the same prefix without the suffix), so that the
// publisher finds its slices again with a Get instead of a List, and so that a slice can be
// named in a trace, a stage or an assertion. The suffix only keeps apart the slices of
// successive incarnations of a real plugin; here one publisher writes them.
package devices
