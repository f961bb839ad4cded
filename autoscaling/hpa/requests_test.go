package hpa

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func milliCPU(name string, m int64) corev1.Container {
	c := corev1.Container{Name: name}
	if m >= 0 {
		c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(m, resource.DecimalSI)}
	}
	return c
}

// TestCalculateRequests ports upstream's TestCalculateRequests (its PodLevelResources-on cases:
// the gate is beta and on in v1.37) and TestCalculatePodRequestsFromContainers_NonExistentContainer.
func TestCalculateRequests(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	podLevel := &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(800, resource.DecimalSI)}}
	pod := func(spec corev1.PodSpec) []*corev1.Pod {
		return []*corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "test-pod"}, Spec: spec}}
	}
	restartable := milliCPU("restartable-container1", 50)
	restartable.RestartPolicy = &always
	for _, tc := range []struct {
		name      string
		pods      []*corev1.Pod
		container string
		want      map[string]int64
		wantErr   string
	}{
		{name: "void", pods: []*corev1.Pod{}, want: map[string]int64{}},
		{name: "Pod-level resources are enabled, but not set: fallback to sum container requests",
			pods: pod(corev1.PodSpec{Containers: []corev1.Container{milliCPU("container1", 100), milliCPU("container2", 50)}}), want: map[string]int64{"test-pod": 150}},
		{name: "Pod-level resources override container requests when feature enabled and pod resources specified",
			pods: pod(corev1.PodSpec{Resources: podLevel, Containers: []corev1.Container{milliCPU("container1", 100), milliCPU("container2", 50)}}), want: map[string]int64{"test-pod": 800}},
		{name: "Fail if at least one of the containers is missing requests and pod-level feature/requests are not set",
			pods: pod(corev1.PodSpec{Containers: []corev1.Container{milliCPU("container1", -1), milliCPU("container2", 50)}}), wantErr: "missing request for cpu in container container1 of Pod test-pod"},
		{name: "Pod-level resources override missing container requests when feature enabled and pod resources specified",
			pods: pod(corev1.PodSpec{Resources: podLevel, Containers: []corev1.Container{milliCPU("container1", -1), milliCPU("container2", 50)}}), want: map[string]int64{"test-pod": 800}},
		{name: "Container: if a container name is specified, calculate requests only for that container",
			pods: pod(corev1.PodSpec{Containers: []corev1.Container{milliCPU("container1", 100), milliCPU("container2", 50)}}), container: "container1", want: map[string]int64{"test-pod": 100}},
		{name: "Container: if a container name is specified, calculate requests only for that container and ignore pod-level requests",
			pods: pod(corev1.PodSpec{Resources: podLevel, Containers: []corev1.Container{milliCPU("container1", 100), milliCPU("container2", 50)}}), container: "container1", want: map[string]int64{"test-pod": 100}},
		{name: "pod with restartable init containers",
			pods: pod(corev1.PodSpec{Containers: []corev1.Container{milliCPU("container1", 100)}, InitContainers: []corev1.Container{milliCPU("init-container1", 20), restartable}}), want: map[string]int64{"test-pod": 150}},
		{name: "non-existent container",
			pods: pod(corev1.PodSpec{Containers: []corev1.Container{milliCPU("container1", 100)}}), container: "non-existent-container", wantErr: "container non-existent-container not found in Pod test-pod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := calculateRequests(tc.pods, tc.container, corev1.ResourceCPU)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
