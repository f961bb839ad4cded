package hpa

import (
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	autoscalingapiv2 "k8s.io/kubernetes/pkg/apis/autoscaling/v2"
)

// flagDefaults are kube-controller-manager's HPA flag defaults (docs/hpa.md 1.1).
var flagDefaults = Settings{
	DownscaleStabilization:  5 * time.Minute,
	Tolerance:               0.1,
	CPUInitializationPeriod: 5 * time.Minute,
	InitialReadinessDelay:   30 * time.Second,
}

// cpuHPA is an autoscaling/v2 HPA with one Resource cpu utilization metric. A non-nil
// behavior is defaulted as the apiserver does (SetDefaults_HorizontalPodAutoscalerBehavior).
func cpuHPA(minReplicas *int32, maxReplicas, utilization int32, behavior *autoscalingv2.HorizontalPodAutoscalerBehavior) *autoscalingv2.HorizontalPodAutoscaler {
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    minReplicas,
			MaxReplicas:    maxReplicas,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &utilization},
				},
			}},
			Behavior: behavior,
		},
	}
	autoscalingapiv2.SetDefaults_HorizontalPodAutoscalerBehavior(hpa)
	return hpa
}

func int32p(v int32) *int32 { return &v }

// readyPod is a Running pod with one container "app" requesting cpu (none if ""), started
// and Ready at start.
func readyPod(name, cpu string, start time.Time) *corev1.Pod {
	c := corev1.Container{Name: "app"}
	if cpu != "" {
		c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{c}},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			StartTime:  &metav1.Time{Time: start},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Time{Time: start}}},
		},
	}
}

// readyPods are n pods p-0…, each requesting cpu.
func readyPods(n int, cpu string, start time.Time) []*corev1.Pod {
	var pods []*corev1.Pod
	for i := 0; i < n; i++ {
		pods = append(pods, readyPod(fmt.Sprintf("p-%d", i), cpu, start))
	}
	return pods
}

// usage is a MetricsSource answering, for cpu, usage[i] millicores for pod p-i (a pod past
// the end has no data), as metrics-server would at now with a 15 s window; no entry at all is
// the resource metrics client's error.
func usage(now time.Time, values ...int64) MetricsSource {
	return func(res corev1.ResourceName, container string) (PodMetrics, error) {
		if len(values) == 0 {
			return nil, fmt.Errorf("no metrics returned from resource metrics API")
		}
		m := PodMetrics{}
		for i, v := range values {
			m[fmt.Sprintf("p-%d", i)] = PodMetric{Timestamp: now, Window: 15 * time.Second, Value: v}
		}
		return m, nil
	}
}

// conditionsOf is Collapse's answer as type → reason, and status.
func findCondition(t *testing.T, out Output, typ autoscalingv2.HorizontalPodAutoscalerConditionType) Condition {
	t.Helper()
	for _, c := range Collapse(out.Conditions) {
		if c.Type == typ {
			return c
		}
	}
	t.Fatalf("no %s condition in %+v", typ, out.Conditions)
	return Condition{}
}

func wantCondition(t *testing.T, out Output, typ autoscalingv2.HorizontalPodAutoscalerConditionType, status corev1.ConditionStatus, reason string) {
	t.Helper()
	c := findCondition(t, out, typ)
	if c.Status != status || c.Reason != reason {
		t.Errorf("%s = %s %s (%q), want %s %s", typ, c.Status, c.Reason, c.Message, status, reason)
	}
}
