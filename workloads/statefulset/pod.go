package statefulset

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/kubernetes/pkg/controller"
)

// A StatefulSet pod's identity and state, from the real stateful_set_utils.go.

var podNameRE = regexp.MustCompile("(.*)-([0-9]+)$")

func parentAndOrdinal(p *corev1.Pod) (string, int) {
	m := podNameRE.FindStringSubmatch(p.Name)
	if len(m) < 3 {
		return "", -1
	}
	o, err := strconv.ParseInt(m[2], 10, 32)
	if err != nil {
		return m[1], -1
	}
	return m[1], int(o)
}

func getOrdinal(p *corev1.Pod) int {
	_, o := parentAndOrdinal(p)
	return o
}

func isMemberOf(set *appsv1.StatefulSet, p *corev1.Pod) bool {
	parent, _ := parentAndOrdinal(p)
	return parent == set.Name
}

func startOrdinal(set *appsv1.StatefulSet) int {
	if set.Spec.Ordinals != nil {
		return int(set.Spec.Ordinals.Start)
	}
	return 0
}

func endOrdinal(set *appsv1.StatefulSet) int {
	return startOrdinal(set) + int(*set.Spec.Replicas) - 1
}

func partitionOf(set *appsv1.StatefulSet) int {
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		return int(*ru.Partition)
	}
	return 0
}

func podNameFor(set *appsv1.StatefulSet, ordinal int) string {
	return fmt.Sprintf("%s-%d", set.Name, ordinal)
}

func identityMatches(set *appsv1.StatefulSet, p *corev1.Pod) bool {
	parent, o := parentAndOrdinal(p)
	return o >= 0 && parent == set.Name && p.Name == podNameFor(set, o) && p.Namespace == set.Namespace &&
		p.Labels[appsv1.StatefulSetPodNameLabel] == p.Name
}

func updateIdentity(set *appsv1.StatefulSet, p *corev1.Pod) {
	o := getOrdinal(p)
	p.Name = podNameFor(set, o)
	p.Namespace = set.Namespace
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[appsv1.StatefulSetPodNameLabel] = p.Name
	p.Labels[appsv1.PodIndexLabel] = strconv.Itoa(o)
}

// newPod is the real newStatefulSetPod (without claim volumes).
func newPod(set *appsv1.StatefulSet, ordinal int) *corev1.Pod {
	pod, _ := controller.GetPodFromTemplate(&set.Spec.Template, set, metav1.NewControllerRef(set, controllerKind))
	pod.Name = podNameFor(set, ordinal)
	updateIdentity(set, pod)
	pod.Spec.Hostname = pod.Name
	pod.Spec.Subdomain = set.Spec.ServiceName
	return pod
}

// newVersionedPod builds the pod for an ordinal from the current revision below the
// partition, else from the update revision. The condition keeps the real code's operator
// precedence.
func newVersionedPod(currentSet, updateSet *appsv1.StatefulSet, currentRevision, updateRevision string, ordinal int) *corev1.Pod {
	ru := currentSet.Spec.UpdateStrategy.RollingUpdate
	if currentSet.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType &&
		(ru == nil && ordinal < startOrdinal(currentSet)+int(currentSet.Status.CurrentReplicas)) ||
		(ru != nil && ru.Partition != nil && ordinal < startOrdinal(currentSet)+int(*ru.Partition)) {
		pod := newPod(currentSet, ordinal)
		setPodRevision(pod, currentRevision)
		return pod
	}
	pod := newPod(updateSet, ordinal)
	setPodRevision(pod, updateRevision)
	return pod
}

func setPodRevision(p *corev1.Pod, revision string) {
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[appsv1.StatefulSetRevisionLabel] = revision
}

func podRevision(p *corev1.Pod) string { return p.Labels[appsv1.StatefulSetRevisionLabel] }

// isCreated: a pod the apiserver has stored has a phase.
func isCreated(p *corev1.Pod) bool { return p.Status.Phase != "" }

func runningAndReady(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && podutil.IsPodReady(p)
}

func isUnavailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	return !podutil.IsPodAvailable(p, minReadySeconds, metav1.Time{Time: now}) || p.DeletionTimestamp != nil
}
