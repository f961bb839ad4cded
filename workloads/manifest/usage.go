package manifest

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
)

// The usage annotations of the load model (workloads/load): what a pod uses while Running,
// as quantities ("300m", "256Mi"). Checked here, where every input and every trace apply is
// decoded, so that a bad one is bad input with its file, line and field.
const (
	CPUUsageAnnotation    = "kwoksim.io/cpu-usage"
	MemoryUsageAnnotation = "kwoksim.io/memory-usage"
)

// checkUsageAnnotations returns the first bad usage annotation of a pod, or of the pod
// template of a workload, as a message with its field path; "" when there is none.
func checkUsageAnnotations(obj runtime.Object) string {
	var annotations map[string]string
	path := "spec.template.metadata.annotations"
	switch o := obj.(type) {
	case *corev1.Pod:
		annotations, path = o.Annotations, "metadata.annotations"
	case *appsv1.Deployment:
		annotations = o.Spec.Template.Annotations
	case *appsv1.ReplicaSet:
		annotations = o.Spec.Template.Annotations
	case *appsv1.StatefulSet:
		annotations = o.Spec.Template.Annotations
	case *appsv1.DaemonSet:
		annotations = o.Spec.Template.Annotations
	case *corev1.ReplicationController:
		if o.Spec.Template != nil {
			annotations = o.Spec.Template.Annotations
		}
	case *batchv1.Job:
		annotations = o.Spec.Template.Annotations
	case *batchv1.CronJob:
		annotations, path = o.Spec.JobTemplate.Spec.Template.Annotations, "spec.jobTemplate.spec.template.metadata.annotations"
	}
	for _, a := range []string{CPUUsageAnnotation, MemoryUsageAnnotation} {
		s, ok := annotations[a]
		if !ok {
			continue
		}
		if q, err := resource.ParseQuantity(s); err != nil || q.Sign() < 0 {
			return fmt.Sprintf(`%s[%q]: expected a non-negative quantity such as "300m" or "256Mi", got %q`, path, a, s)
		}
	}
	return ""
}
