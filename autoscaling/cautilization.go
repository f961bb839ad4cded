package autoscaling

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/component-helpers/resource"
)

// PodLongTerminatingExtraThreshold is how long past its grace period a terminating pod still
// counts (cluster-autoscaler utils/drain/drain.go, PodLongTerminatingExtraThreshold).
const PodLongTerminatingExtraThreshold = 30 * time.Second

// UtilizationInfo is a node's utilization as cluster-autoscaler computes it
// (simulator/utilization/info.go, Info): its fields in upstream's order, so that %v prints
// as upstream's ScaleDown event does.
type UtilizationInfo struct {
	CpuUtil             float64
	MemUtil             float64
	GpuUtil             float64
	DynamicResourceUtil float64
	ResourceName        corev1.ResourceName
	Utilization         float64
}

// Utilization is cluster-autoscaler's utilization of a node with those pods
// (simulator/utilization/info.go, Calculate and CalculateUtilizationOfResource): per
// resource, the pods' requests (component-helpers PodRequests) over the allocatable, the
// higher of CPU and memory. Long-terminating pods (IsPodLongTerminating) do not count; with
// ignoreDaemonSets, DaemonSet pods' requests are taken out of both sides. GPU nodes (a GPU
// extended resource) are not modelled; a node with devices has its devices' utilization
// instead (the node autoscaler's deviceUtilization).
func Utilization(node *corev1.Node, pods []*corev1.Pod, now time.Time, ignoreDaemonSets bool) UtilizationInfo {
	cpu := utilizationOf(node, pods, corev1.ResourceCPU, now, ignoreDaemonSets)
	mem := utilizationOf(node, pods, corev1.ResourceMemory, now, ignoreDaemonSets)
	u := UtilizationInfo{CpuUtil: cpu, MemUtil: mem}
	if cpu > mem {
		u.ResourceName, u.Utilization = corev1.ResourceCPU, cpu
	} else {
		u.ResourceName, u.Utilization = corev1.ResourceMemory, mem
	}
	return u
}

func utilizationOf(node *corev1.Node, pods []*corev1.Pod, name corev1.ResourceName, now time.Time, ignoreDaemonSets bool) float64 {
	alloc := node.Status.Allocatable[name]
	if alloc.MilliValue() == 0 {
		return 0 // upstream returns an error; no such resource means nothing to use
	}
	var req, ds int64
	for _, p := range pods {
		q := resource.PodRequests(p, resource.PodResourcesOptions{})[name]
		if ignoreDaemonSets && IsDaemonSetPod(p) {
			ds += q.MilliValue()
			continue
		}
		if IsPodLongTerminating(p, now) {
			continue
		}
		req += q.MilliValue()
	}
	if alloc.MilliValue()-ds <= 0 {
		return 0
	}
	return float64(req) / float64(alloc.MilliValue()-ds)
}

// IsPodLongTerminating is whether a terminating pod is past deletionTimestamp + its grace
// period (default 30 s) + PodLongTerminatingExtraThreshold (cluster-autoscaler
// utils/drain/drain.go, IsPodLongTerminating).
func IsPodLongTerminating(p *corev1.Pod, now time.Time) bool {
	if p.DeletionTimestamp == nil {
		return false
	}
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if p.Spec.TerminationGracePeriodSeconds != nil {
		grace = *p.Spec.TerminationGracePeriodSeconds
	}
	return p.DeletionTimestamp.Time.Add(time.Duration(grace) * time.Second).Add(PodLongTerminatingExtraThreshold).Before(now)
}

// IsDaemonSetPod is whether a DaemonSet controls the pod (cluster-autoscaler
// utils/pod/pod.go, IsDaemonSetPod, without the annotation override).
func IsDaemonSetPod(p *corev1.Pod) bool {
	for _, o := range p.OwnerReferences {
		if o.Controller != nil && *o.Controller && o.Kind == "DaemonSet" {
			return true
		}
	}
	return false
}

// PodScore is the binpacking estimator's order key, higher first
// (estimator/decreasing_pod_orderer.go, DecreasingPodOrderer): the pod's CPU request over the
// template's allocatable CPU plus its memory request over the allocatable memory.
func PodScore(p *corev1.Pod, allocatable corev1.ResourceList) float64 {
	req := resource.PodRequests(p, resource.PodResourcesOptions{})
	var s float64
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		a, r := allocatable[name], req[name]
		if a.MilliValue() > 0 {
			s += float64(r.MilliValue()) / float64(a.MilliValue())
		}
	}
	return s
}
