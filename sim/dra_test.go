package sim

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

const gpuDriver = "gpu.kwoksim.io"

func gpuClass() *resourcev1.DeviceClass {
	return &resourcev1.DeviceClass{
		ObjectMeta: metav1.ObjectMeta{Name: "gpu"},
		Spec: resourcev1.DeviceClassSpec{Selectors: []resourcev1.DeviceSelector{{
			CEL: &resourcev1.CELDeviceSelector{Expression: `device.driver == "` + gpuDriver + `"`},
		}}},
	}
}

// cards is a node's ResourceSlice with n cards, each shareable (consumable capacity) with
// 1000 gpu-milli.
func cards(nodeName string, n int) *resourcev1.ResourceSlice {
	var devs []resourcev1.Device
	for i := range n {
		devs = append(devs, resourcev1.Device{
			Name:                     "gpu-" + string(rune('0'+i)),
			AllowMultipleAllocations: ptr.To(true),
			Attributes:               map[resourcev1.QualifiedName]resourcev1.DeviceAttribute{"model": {StringValue: ptr.To("A100")}},
			Capacity:                 map[resourcev1.QualifiedName]resourcev1.DeviceCapacity{"gpuMilli": {Value: resource.MustParse("1000")}},
		})
	}
	return &resourcev1.ResourceSlice{
		ObjectMeta: metav1.ObjectMeta{Name: nodeName + "-gpu"},
		Spec: resourcev1.ResourceSliceSpec{
			Driver: gpuDriver, NodeName: ptr.To(nodeName),
			Pool:    resourcev1.ResourcePool{Name: nodeName, ResourceSliceCount: 1},
			Devices: devs,
		},
	}
}

func gpuClaim(name string, count int64, milli string) *resourcev1.ResourceClaim {
	req := resourcev1.ExactDeviceRequest{DeviceClassName: "gpu", AllocationMode: resourcev1.DeviceAllocationModeExactCount, Count: count}
	if milli != "" {
		req.Capacity = &resourcev1.CapacityRequirements{Requests: map[resourcev1.QualifiedName]resource.Quantity{"gpuMilli": resource.MustParse(milli)}}
	}
	return &resourcev1.ResourceClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       resourcev1.ResourceClaimSpec{Devices: resourcev1.DeviceClaim{Requests: []resourcev1.DeviceRequest{{Name: "gpu", Exactly: &req}}}},
	}
}

func claimingPod(name, claim string) *corev1.Pod {
	p := pod(name)
	p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: ptr.To(claim)}}
	p.Spec.Containers[0].Resources.Claims = []corev1.ResourceClaim{{Name: "gpu"}}
	return p
}

func TestDRAPlacesSharedCardsPerCard(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n1"))
	for _, o := range []runtime.Object{gpuClass(), cards("n1", 2)} {
		if _, err := s.API().Create(o); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a", "b", "c"} {
		if _, err := s.API().Create(gpuClaim(n, 1, "600")); err != nil {
			t.Fatal(err)
		}
		mustCreate(t, s, claimingPod(n, n))
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c"} {
		p := getPod(t, s, n)
		obj, _ := s.API().Get(kinds["ResourceClaim"], "default", n)
		c := obj.(*resourcev1.ResourceClaim)
		t.Logf("%s: node %q, alloc %v reserved %v conds %v", n, p.Spec.NodeName, c.Status.Allocation != nil, c.Status.ReservedFor, p.Status.Conditions)
	}
}
