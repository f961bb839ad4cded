package hpa

import (
	"errors"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kwoksim serves no custom or external metrics API (no metrics adapter runs), so a Pods,
// Object or External metric fails as it does on a cluster without one. These are kwoksim's
// texts for that failure, modelled on the clients' own: the custom metrics client's discovery
// (k8s.io/metrics/pkg/client/custom_metrics/discovery.go) and the external metrics client's
// 404, each wrapped as metrics/client.go wraps it.
var (
	errCustomMetricsNotServed = errors.New("unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered")
)

func errExternalMetricsNotServed(metricName string) error {
	return fmt.Errorf("unable to fetch metrics from external metrics API: the server could not find the requested resource (get %s.external.metrics.k8s.io)", metricName)
}

// computeReplicasForMetrics follows computeReplicasForMetrics (horizontal.go:378), after
// validateAndParseSelector (the caller matched the pods): the max proposal over the valid
// metrics, the winning metric's name and every metric's status. -1 and an error when all
// metrics failed, or some failed and the max is below the current count.
func (r *reconcile) computeReplicasForMetrics(specReplicas int32) (int32, string, []autoscalingv2.MetricStatus, error) {
	specs := r.in.HPA.Spec.Metrics
	statuses := make([]autoscalingv2.MetricStatus, len(specs))
	var replicas int32
	var metric string
	invalid := 0
	var invalidErr error
	var invalidCond Condition
	for i, spec := range specs {
		proposal, name, cond, err := r.computeReplicasForMetric(spec, specReplicas, &statuses[i])
		if err != nil {
			if invalid <= 0 {
				invalidCond, invalidErr = cond, err
			}
			invalid++
			continue
		}
		if replicas == 0 || proposal > replicas {
			replicas, metric = proposal, name
		}
	}
	if invalidErr != nil {
		invalidErr = fmt.Errorf("invalid metrics (%v invalid out of %v), first error is: %w", invalid, len(specs), invalidErr)
	}
	if invalid >= len(specs) || (invalid > 0 && replicas < specReplicas) {
		r.setCondition(invalidCond.Type, invalidCond.Status, invalidCond.Reason, invalidCond.Message)
		return -1, "", statuses, invalidErr
	}
	r.setCondition(autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound", fmt.Sprintf("the HPA was able to successfully calculate a replica count from %s", metric))
	return replicas, metric, statuses, invalidErr
}

// computeReplicasForMetric follows computeReplicasForMetric (horizontal.go:475): the proposal
// of one metric, its name, and on failure the ScalingActive condition and the wrapped error.
func (r *reconcile) computeReplicasForMetric(spec autoscalingv2.MetricSpec, specReplicas int32, status *autoscalingv2.MetricStatus) (int32, string, Condition, error) {
	switch spec.Type {
	case autoscalingv2.ObjectMetricSourceType:
		cond, err := r.objectMetric(spec)
		return 0, "", cond, fmt.Errorf("failed to get object metric value: %w", err)
	case autoscalingv2.PodsMetricSourceType:
		cond, err := r.podsMetric(spec)
		return 0, "", cond, fmt.Errorf("failed to get pods metric value: %w", err)
	case autoscalingv2.ResourceMetricSourceType:
		proposal, value, name, err := r.resourceMetricGeneric(specReplicas, spec.Resource.Target, spec.Resource.Name, "", spec.Type)
		if err != nil {
			cond := r.unableToCompute("FailedGetResourceMetric", err)
			return 0, "", cond, fmt.Errorf("failed to get %s resource metric value: %w", spec.Resource.Name, err)
		}
		*status = autoscalingv2.MetricStatus{
			Type:     autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{Name: spec.Resource.Name, Current: *value},
		}
		return proposal, name, Condition{}, nil
	case autoscalingv2.ContainerResourceMetricSourceType:
		cr := spec.ContainerResource
		proposal, value, name, err := r.resourceMetricGeneric(specReplicas, cr.Target, cr.Name, cr.Container, spec.Type)
		if err != nil {
			cond := r.unableToCompute("FailedGetContainerResourceMetric", err)
			return 0, "", cond, fmt.Errorf("failed to get %s container metric value: %w", cr.Container, err)
		}
		*status = autoscalingv2.MetricStatus{
			Type:              autoscalingv2.ContainerResourceMetricSourceType,
			ContainerResource: &autoscalingv2.ContainerResourceMetricStatus{Name: cr.Name, Container: cr.Container, Current: *value},
		}
		return proposal, name, Condition{}, nil
	case autoscalingv2.ExternalMetricSourceType:
		cond, err := r.externalMetric(spec)
		return 0, "", cond, fmt.Errorf("failed to get %s external metric value: %w", spec.External.Metric.Name, err)
	default:
		err := fmt.Errorf("unknown metric source type %q", string(spec.Type))
		return 0, "", r.unableToCompute("InvalidMetricSourceType", err), err
	}
}

// resourceMetricGeneric follows computeStatusForResourceMetricGeneric (horizontal.go:657): an
// AverageValue target through the raw calculator, a utilization target through the
// utilization one; the metric's name as the rescale reason and ValidMetricFound show it.
func (r *reconcile) resourceMetricGeneric(specReplicas int32, target autoscalingv2.MetricTarget, name corev1.ResourceName, container string, sourceType autoscalingv2.MetricSourceType) (int32, *autoscalingv2.MetricValueStatus, string, error) {
	calc := r.calculator()
	tol := tolerancesForHpa(r.in.HPA, r.c.settings.Tolerance)
	if target.AverageValue != nil {
		proposal, raw, err := calc.rawResourceReplicas(specReplicas, target.AverageValue.MilliValue(), name, tol, r.in.Metrics, container)
		if err != nil {
			return 0, nil, "", fmt.Errorf("failed to get %s usage: %w", name, err)
		}
		q := buildQuantity(name, raw)
		return proposal, &autoscalingv2.MetricValueStatus{AverageValue: &q}, fmt.Sprintf("%s resource", name), nil
	}
	if target.AverageUtilization == nil {
		return 0, nil, "", errors.New("invalid resource metric source: neither an average utilization target nor an average value (usage) target was set")
	}
	proposal, utilization, raw, err := calc.resourceReplicas(specReplicas, *target.AverageUtilization, name, tol, r.in.Metrics, container)
	if err != nil {
		return 0, nil, "", fmt.Errorf("failed to get %s utilization: %w", name, err)
	}
	metricName := fmt.Sprintf("%s resource utilization (percentage of request)", name)
	if sourceType == autoscalingv2.ContainerResourceMetricSourceType {
		metricName = fmt.Sprintf("%s container resource utilization (percentage of request)", name)
	}
	q := buildQuantity(name, raw)
	return proposal, &autoscalingv2.MetricValueStatus{AverageUtilization: &utilization, AverageValue: &q}, metricName, nil
}

// buildQuantity follows buildQuantity (horizontal.go): a milli-quantity, BinarySI for memory.
func buildQuantity(name corev1.ResourceName, raw int64) resource.Quantity {
	format := resource.DecimalSI
	if name == corev1.ResourceMemory {
		format = resource.BinarySI
	}
	return *resource.NewMilliQuantity(raw, format)
}

func (r *reconcile) calculator() calculator {
	return calculator{
		now:                     r.in.Now,
		cpuInitializationPeriod: r.c.settings.CPUInitializationPeriod,
		initialReadinessDelay:   r.c.settings.InitialReadinessDelay,
		pods:                    r.in.Pods,
	}
}

// podsMetric follows computeReplicasForMetric's Pods case and computeStatusForPodsMetric
// (GetMetricReplicas): the metric selector is parsed, then the custom metrics API fails.
func (r *reconcile) podsMetric(spec autoscalingv2.MetricSpec) (Condition, error) {
	if _, err := metav1.LabelSelectorAsSelector(spec.Pods.Metric.Selector); err != nil {
		return r.unableToCompute("FailedGetPodsMetric", err), err
	}
	err := fmt.Errorf("unable to get metric %s: %w", spec.Pods.Metric.Name, errCustomMetricsNotServed)
	return r.unableToCompute("FailedGetPodsMetric", err), err
}

// objectMetric follows the Object case and computeStatusForObjectMetric
// (GetObjectMetricReplicas, GetObjectPerPodMetricReplicas).
func (r *reconcile) objectMetric(spec autoscalingv2.MetricSpec) (Condition, error) {
	o := spec.Object
	if _, err := metav1.LabelSelectorAsSelector(o.Metric.Selector); err != nil {
		return r.unableToCompute("FailedGetObjectMetric", err), err
	}
	calcErr := fmt.Errorf("unable to get metric %s on %s %s/%s: %w", o.Metric.Name, o.DescribedObject.Kind, r.in.HPA.Namespace, o.DescribedObject.Name, errCustomMetricsNotServed)
	switch {
	case o.Target.Type == autoscalingv2.ValueMetricType && o.Target.Value != nil:
		return r.unableToCompute("FailedGetObjectMetric", calcErr), calcErr
	case o.Target.Type == autoscalingv2.AverageValueMetricType && o.Target.AverageValue != nil:
		cond := r.unableToCompute("FailedGetObjectMetric", calcErr)
		return cond, fmt.Errorf("failed to get %s object metric: %w", o.Metric.Name, calcErr)
	}
	err := errors.New("invalid object metric source: neither a value target nor an average value target was set")
	return r.unableToCompute("FailedGetObjectMetric", err), err
}

// externalMetric follows computeStatusForExternalMetric (GetExternalPerPodMetricReplicas,
// GetExternalMetricReplicas).
func (r *reconcile) externalMetric(spec autoscalingv2.MetricSpec) (Condition, error) {
	e := spec.External
	if e.Target.AverageValue == nil && e.Target.Value == nil {
		err := errors.New("invalid external metric source: neither a value target nor an average value target was set")
		return r.unableToCompute("FailedGetExternalMetric", err), err
	}
	calcErr := func() error {
		if _, err := metav1.LabelSelectorAsSelector(e.Metric.Selector); err != nil {
			return err
		}
		return fmt.Errorf("unable to get external metric %s/%s/%+v: %s", r.in.HPA.Namespace, e.Metric.Name, e.Metric.Selector, errExternalMetricsNotServed(e.Metric.Name))
	}()
	cond := r.unableToCompute("FailedGetExternalMetric", calcErr)
	if e.Target.AverageValue != nil {
		return cond, fmt.Errorf("failed to get %s external metric: %w", e.Metric.Name, calcErr)
	}
	return cond, fmt.Errorf("failed to get external metric %s: %w", e.Metric.Name, calcErr)
}
