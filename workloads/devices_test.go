package workloads_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// Two nodes describe their devices with the kwoksim.io/devices annotation: n1 two shared
// GPUs, n2 one NIC of another driver. A claim made by hand asks for 600 of a GPU's 1000
// gpuMilli (the resource claim controller, which makes claims from templates, is not
// needed here).
const devicesNodes = `apiVersion: v1
kind: Node
metadata:
  name: n1
  annotations:
    kwoksim.io/devices: |
      - count: 2
        attributes: {model: A100}
        capacity: {gpuMilli: 1000}
        shared: true
status:
  allocatable: {cpu: "8", memory: 32Gi, pods: "110"}
  capacity: {cpu: "8", memory: 32Gi, pods: "110"}
---
apiVersion: v1
kind: Node
metadata:
  name: n2
  annotations:
    kwoksim.io/devices: '[{driver: nic.example.com, name: nic}]'
status:
  allocatable: {cpu: "8", memory: 32Gi, pods: "110"}
  capacity: {cpu: "8", memory: 32Gi, pods: "110"}
`

const devicesWorkloads = `apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: gpu}
spec:
  selectors:
  - cel: {expression: 'device.driver == "gpu.kwoksim.io"'}
---
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: a, namespace: default}
spec:
  devices:
    requests:
    - name: gpu
      exactly:
        deviceClassName: gpu
        count: 1
        capacity: {requests: {gpuMilli: "600"}}
        selectors:
        - cel: {expression: 'has(device.attributes["gpu.kwoksim.io"].model) && device.attributes["gpu.kwoksim.io"].model in ["A100", "H100"]'}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: default}
spec:
  resourceClaims: [{name: gpu, resourceClaimName: a}]
  containers:
  - name: main
    image: x
    resources: {claims: [{name: gpu}]}
`

// runDevices runs the nodes and workloads above with a YAML trace of events, and returns
// the final state by kind and name.
func runDevices(t *testing.T, events string) map[string]runtime.Object {
	t.Helper()
	return runDevicesOn(t, devicesNodes, events)
}

// runDevicesOn is runDevices on other nodes.
func runDevicesOn(t *testing.T, nodesYAML, events string) map[string]runtime.Object {
	t.Helper()
	nodes, err := manifest.LoadBytes("nodes.yaml", []byte(nodesYAML), manifest.LoadOptions{Kinds: map[string]bool{"Node": true}})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.LoadBytes("workloads.yaml", []byte(devicesWorkloads), manifest.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr := filepath.Join(t.TempDir(), "trace.yaml")
	if err := os.WriteFile(tr, []byte("apiVersion: kwoksim/v1alpha1\nkind: Trace\nevents:\n"+events), 0o644); err != nil {
		t.Fatal(err)
	}
	state := map[string]runtime.Object{}
	sc := workloads.Scenario{Config: sim.Config{Seed: 1}, Nodes: nodes, Workloads: objs, Traces: []string{tr}, Strict: true,
		WriteState: func(objs []runtime.Object) error {
			for _, o := range objs {
				k, err := sim.KindOf(o)
				if err != nil {
					return err
				}
				state[k.Name()+"/"+o.(interface{ GetName() string }).GetName()] = o
			}
			return nil
		}}
	if _, err := workloads.Run(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	return state
}

// A node's annotation becomes its ResourceSlice at t=0, the pod's claim is allocated on it
// by the real DynamicResources plugin, and a change of the annotation republishes it.
func TestDevicesAnnotationPublishesSlices(t *testing.T) {
	state := runDevices(t, `- at: 10s
  patch: {kind: Node, name: n1, type: merge, patch: {metadata: {annotations: {kwoksim.io/devices: "[{count: 3, attributes: {model: A100}, capacity: {gpuMilli: 1000}, shared: true}]"}}}}
`)
	s, ok := state["ResourceSlice/00000-gpu.kwoksim.io-n1"].(*resourcev1.ResourceSlice)
	if !ok {
		t.Fatalf("no slice for n1; state: %v", keys(state))
	}
	if *s.Spec.NodeName != "n1" || s.Spec.Pool.Name != "n1" || len(s.Spec.Devices) != 3 || s.OwnerReferences[0].Name != "n1" {
		t.Errorf("n1's slice after the patch: %+v", s)
	}
	if _, ok := state["ResourceSlice/00000-nic.example.com-n2"]; !ok {
		t.Errorf("no slice for n2's NIC; state: %v", keys(state))
	}
	pod := state["Pod/a"].(*corev1.Pod)
	if pod.Spec.NodeName != "n1" {
		t.Errorf("pod a on %q, want n1", pod.Spec.NodeName)
	}
	c := state["ResourceClaim/a"].(*resourcev1.ResourceClaim)
	if c.Status.Allocation == nil || len(c.Status.Allocation.Devices.Results) != 1 {
		t.Fatalf("claim a not allocated: %+v", c.Status)
	}
	r := c.Status.Allocation.Devices.Results[0]
	if used := r.ConsumedCapacity["gpuMilli"]; r.Driver != "gpu.kwoksim.io" || r.Pool != "n1" || r.Device != "gpu-0" || used.Value() != 600 {
		t.Errorf("allocation %+v", r)
	}
}

// A driver's start-up delay, modelled as the README says: the node comes without the
// annotation and a trace adds it at 45s. Until then the node has no slice and the pod waits
// (cannot allocate all claims); at 45s the slice is published and the pod is bound at once.
func TestDevicesPublishedLateDelayThePod(t *testing.T) {
	bare := strings.Replace(devicesNodes, `  annotations:
    kwoksim.io/devices: |
      - count: 2
        attributes: {model: A100}
        capacity: {gpuMilli: 1000}
        shared: true
`, "", 1)
	if bare == devicesNodes {
		t.Fatal("the annotation to leave out was not found")
	}
	state := runDevicesOn(t, bare, `- at: 45s
  patch: {kind: Node, name: n1, type: merge, patch: {metadata: {annotations: {kwoksim.io/devices: "[{count: 2, attributes: {model: A100}, capacity: {gpuMilli: 1000}, shared: true}]"}}}}
`)
	if _, ok := state["ResourceSlice/00000-gpu.kwoksim.io-n1"]; !ok {
		t.Fatalf("no slice for n1 after the patch; state: %v", keys(state))
	}
	pod := state["Pod/a"].(*corev1.Pod)
	if pod.Spec.NodeName != "n1" {
		t.Fatalf("pod a on %q, want n1", pod.Spec.NodeName)
	}
	var scheduled *corev1.PodCondition
	for i, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			scheduled = &pod.Status.Conditions[i]
		}
	}
	if scheduled == nil || scheduled.Status != corev1.ConditionTrue || !scheduled.LastTransitionTime.Time.Equal(sim.Epoch.Add(45*time.Second)) {
		t.Errorf("PodScheduled %+v, want true since t=45s", scheduled)
	}
}

// Deleting the node deletes its slices (the garbage collector follows their ownerReference);
// the other node's stay.
func TestDevicesSlicesGoWithTheirNode(t *testing.T) {
	state := runDevices(t, "- at: 10s\n  delete: {kind: Node, name: n1}\n")
	var slices []string
	for k := range state {
		if strings.HasPrefix(k, "ResourceSlice/") {
			slices = append(slices, k)
		}
	}
	sort.Strings(slices)
	if strings.Join(slices, ",") != "ResourceSlice/00000-nic.example.com-n2" {
		t.Errorf("slices after n1's deletion: %v", slices)
	}
}

func keys(m map[string]runtime.Object) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
