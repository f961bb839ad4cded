package hpa

import (
	"errors"
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	resourcehelpers "k8s.io/component-helpers/resource"
)

// calculator is upstream's ReplicaCalculator (replica_calculator.go) with the reconcile's
// virtual now in place of time.Now() (groupPods, replica_calculator.go:450). The pods are the
// pod lister's answer, already in hand (Input.Pods).
type calculator struct {
	now                     time.Time
	cpuInitializationPeriod time.Duration
	initialReadinessDelay   time.Duration
	pods                    []*corev1.Pod
}

// errNoPods is calcPlainMetricReplicas' and GetResourceReplicas' error for an empty pod list.
var errNoPods = errors.New("no pods returned by selector while calculating replica count")

// errNoReadyMetrics: every metric belonged to an ignored or unready pod.
var errNoReadyMetrics = errors.New("did not receive metrics for targeted pods (pods might be unready)")

// resourceReplicas follows GetResourceReplicas (replica_calculator.go:80): the proposal for a
// utilization target, the current utilization (percent of request) and the average usage.
func (c calculator) resourceReplicas(currentReplicas, targetUtilization int32, resource corev1.ResourceName, tol tolerances, src MetricsSource, container string) (int32, int32, int64, error) {
	metrics, err := fetch(src, resource, container)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("unable to get metrics for resource %s: %w", resource, err)
	}
	if len(c.pods) == 0 {
		return 0, 0, 0, errNoPods
	}
	readyPodCount, unready, missing, ignored := groupPods(c.now, c.pods, metrics, resource, c.cpuInitializationPeriod, c.initialReadinessDelay)
	removeMetricsForPods(metrics, ignored)
	removeMetricsForPods(metrics, unready)
	if len(metrics) == 0 {
		return 0, 0, 0, errNoReadyMetrics
	}
	requests, err := calculateRequests(c.pods, container, resource)
	if err != nil {
		return 0, 0, 0, err
	}
	usageRatio, utilization, rawUtilization, err := resourceUtilizationRatio(metrics, requests, targetUtilization)
	if err != nil {
		return 0, 0, 0, err
	}

	scaleUpWithUnready := len(unready) > 0 && usageRatio > 1.0
	if !scaleUpWithUnready && len(missing) == 0 {
		if tol.isWithin(usageRatio) {
			return currentReplicas, utilization, rawUtilization, nil
		}
		return int32(math.Ceil(usageRatio * float64(readyPodCount))), utilization, rawUtilization, nil
	}

	// Rebalance: on a scale-down a missing pod is assumed at 100% of its request (or the
	// target, above 100%), on a scale-up at 0; an unready pod counts 0 on a scale-up.
	if len(missing) > 0 {
		if usageRatio < 1.0 {
			fallback := int64(max(100, targetUtilization))
			for name := range missing {
				metrics[name] = PodMetric{Value: requests[name] * fallback / 100}
			}
		} else if usageRatio > 1.0 {
			for name := range missing {
				metrics[name] = PodMetric{Value: 0}
			}
		}
	}
	if scaleUpWithUnready {
		for name := range unready {
			metrics[name] = PodMetric{Value: 0}
		}
	}

	newUsageRatio, _, _, err := resourceUtilizationRatio(metrics, requests, targetUtilization)
	if err != nil {
		return 0, utilization, rawUtilization, err
	}
	return rebalanced(currentReplicas, usageRatio, newUsageRatio, len(metrics), tol), utilization, rawUtilization, nil
}

// rebalanced is the tail both calculators share (GetResourceReplicas and
// calcPlainMetricReplicas, replica_calculator.go:145–160 and 240–252): no change within the
// tolerance or when the rebalancing flipped the direction, else ceil(ratio × pods counted).
func rebalanced(currentReplicas int32, usageRatio, newUsageRatio float64, counted int, tol tolerances) int32 {
	if tol.isWithin(newUsageRatio) || (usageRatio < 1.0 && newUsageRatio > 1.0) || (usageRatio > 1.0 && newUsageRatio < 1.0) {
		return currentReplicas
	}
	newReplicas := int32(math.Ceil(newUsageRatio * float64(counted)))
	if (newUsageRatio < 1.0 && newReplicas > currentReplicas) || (newUsageRatio > 1.0 && newReplicas < currentReplicas) {
		return currentReplicas
	}
	return newReplicas
}

// rawResourceReplicas follows GetRawResourceReplicas (replica_calculator.go:169): the proposal
// for an AverageValue target (a milli-value) and the average usage.
func (c calculator) rawResourceReplicas(currentReplicas int32, targetUsage int64, resource corev1.ResourceName, tol tolerances, src MetricsSource, container string) (int32, int64, error) {
	metrics, err := fetch(src, resource, container)
	if err != nil {
		return 0, 0, fmt.Errorf("unable to get metrics for resource %s: %w", resource, err)
	}
	return c.plainMetricReplicas(metrics, currentReplicas, targetUsage, tol, resource)
}

// plainMetricReplicas follows calcPlainMetricReplicas (replica_calculator.go:193). resource is
// "" for a custom pods metric (then groupPods applies no CPU readiness rule).
func (c calculator) plainMetricReplicas(metrics PodMetrics, currentReplicas int32, targetUsage int64, tol tolerances, resource corev1.ResourceName) (int32, int64, error) {
	if len(c.pods) == 0 {
		return 0, 0, errNoPods
	}
	readyPodCount, unready, missing, ignored := groupPods(c.now, c.pods, metrics, resource, c.cpuInitializationPeriod, c.initialReadinessDelay)
	removeMetricsForPods(metrics, ignored)
	removeMetricsForPods(metrics, unready)
	if len(metrics) == 0 {
		return 0, 0, errNoReadyMetrics
	}
	usageRatio, usage := metricUsageRatio(metrics, targetUsage)

	scaleUpWithUnready := len(unready) > 0 && usageRatio > 1.0
	if !scaleUpWithUnready && len(missing) == 0 {
		if tol.isWithin(usageRatio) {
			return currentReplicas, usage, nil
		}
		return int32(math.Ceil(usageRatio * float64(readyPodCount))), usage, nil
	}

	// On a scale-down a missing pod is assumed to use exactly the target.
	if len(missing) > 0 {
		if usageRatio < 1.0 {
			for name := range missing {
				metrics[name] = PodMetric{Value: targetUsage}
			}
		} else if usageRatio > 1.0 {
			for name := range missing {
				metrics[name] = PodMetric{Value: 0}
			}
		}
	}
	if scaleUpWithUnready {
		for name := range unready {
			metrics[name] = PodMetric{Value: 0}
		}
	}
	newUsageRatio, _ := metricUsageRatio(metrics, targetUsage)
	return rebalanced(currentReplicas, usageRatio, newUsageRatio, len(metrics), tol), usage, nil
}

// fetch asks the source and copies its answer: the calculator edits the map (it drops the
// unready and adds the missing), and the source's map may be shared.
func fetch(src MetricsSource, resource corev1.ResourceName, container string) (PodMetrics, error) {
	got, err := src(resource, container)
	if err != nil {
		return nil, err
	}
	metrics := make(PodMetrics, len(got))
	for name, m := range got {
		metrics[name] = m
	}
	return metrics, nil
}

// podSet is a set of pod names; only membership and edits read it, never its order.
type podSet map[string]struct{}

// groupPods follows groupPods (replica_calculator.go:422), with now passed in: ready count,
// and the unready, missing and ignored pods.
func groupPods(now time.Time, pods []*corev1.Pod, metrics PodMetrics, resource corev1.ResourceName, cpuInitializationPeriod, initialReadinessDelay time.Duration) (readyPodCount int, unready, missing, ignored podSet) {
	unready, missing, ignored = podSet{}, podSet{}, podSet{}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodFailed {
			ignored[pod.Name] = struct{}{}
			continue
		}
		if pod.Status.Phase == corev1.PodPending {
			unready[pod.Name] = struct{}{}
			continue
		}
		metric, found := metrics[pod.Name]
		if !found {
			missing[pod.Name] = struct{}{}
			continue
		}
		if resource == corev1.ResourceCPU && cpuUnready(now, pod, metric, cpuInitializationPeriod, initialReadinessDelay) {
			unready[pod.Name] = struct{}{}
			continue
		}
		readyPodCount++
	}
	return readyPodCount, unready, missing, ignored
}

// cpuUnready is groupPods' CPU rule (replica_calculator.go:441–462): within the CPU
// initialization period a pod counts only once Ready for a full metric window; after it, only
// a pod that has never been ready is left out.
func cpuUnready(now time.Time, pod *corev1.Pod, metric PodMetric, cpuInitializationPeriod, initialReadinessDelay time.Duration) bool {
	cond := podReadyCondition(pod)
	if cond == nil || pod.Status.StartTime == nil {
		return true
	}
	start := pod.Status.StartTime.Time
	if start.Add(cpuInitializationPeriod).After(now) {
		return cond.Status == corev1.ConditionFalse || metric.Timestamp.Before(cond.LastTransitionTime.Time.Add(metric.Window))
	}
	return cond.Status == corev1.ConditionFalse && start.Add(initialReadinessDelay).After(cond.LastTransitionTime.Time)
}

// podReadyCondition is podutil.GetPodCondition(&pod.Status, PodReady) (the first one).
func podReadyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

func removeMetricsForPods(metrics PodMetrics, pods podSet) {
	for name := range pods {
		delete(metrics, name)
	}
}

// calculateRequests follows calculateRequests (replica_calculator.go:475): each pod's request
// in milli-units, from pod-level requests when set and no container is named
// (PodLevelResources, beta and on in v1.37), else from the containers.
func calculateRequests(pods []*corev1.Pod, container string, resource corev1.ResourceName) (map[string]int64, error) {
	requests := make(map[string]int64, len(pods))
	for _, pod := range pods {
		var request int64
		var err error
		if container == "" && resourcehelpers.IsPodLevelRequestsSet(pod) {
			request, err = podLevelRequest(pod, resource)
		} else {
			request, err = containerRequests(pod, container, resource)
		}
		if err != nil {
			return nil, err
		}
		requests[pod.Name] = request
	}
	return requests, nil
}

// podLevelRequest follows calculatePodLevelRequests (replica_calculator.go:503).
func podLevelRequest(pod *corev1.Pod, resource corev1.ResourceName) (int64, error) {
	q, ok := resourcehelpers.PodRequests(pod, resourcehelpers.PodResourcesOptions{})[resource]
	if !ok {
		return 0, fmt.Errorf("missing pod-level request for %s in Pod %s", resource, pod.Name)
	}
	return q.MilliValue(), nil
}

// containerRequests follows calculatePodRequestsFromContainers (replica_calculator.go:515):
// the containers plus the restartable init containers (sidecars); ordinary init containers
// are not counted.
func containerRequests(pod *corev1.Pod, container string, resource corev1.ResourceName) (int64, error) {
	containers := append([]corev1.Container{}, pod.Spec.Containers...)
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			containers = append(containers, c)
		}
	}
	var request int64
	for _, c := range containers {
		if container == "" || container == c.Name {
			q, ok := c.Resources.Requests[resource]
			if !ok {
				return 0, fmt.Errorf("missing request for %s in container %s of Pod %s", resource, c.Name, pod.Name)
			}
			request += q.MilliValue()
		}
		if container == c.Name {
			return request, nil
		}
	}
	if container != "" {
		return 0, fmt.Errorf("container %s not found in Pod %s", container, pod.Name)
	}
	return request, nil
}
