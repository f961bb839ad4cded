package nodeautoscaler

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
)

// caToBeDeletedTaint is the taint cluster-autoscaler puts on a node it removes
// (utils/taints/taints.go, ToBeDeletedTaint), its value the decision's unix time.
const caToBeDeletedTaint = "ToBeDeletedByClusterAutoscaler"

// caDeletion is a node being removed (core/scaledown/actuation: the deletion tracker's
// entry and the goroutine that drains and deletes it, here clock events).
type caDeletion struct {
	ca    *clusterAutoscaler
	m     *Member
	drain bool
	// pods are the pods to evict; evicted those the eviction API accepted.
	pods    []*corev1.Pod
	evicted map[string]bool
	// retryUntil ends the eviction retries; maxGrace is the longest grace period given.
	retryUntil time.Time
	maxGrace   int64
	waitUntil  time.Time
}

// startDeletion is Actuator.StartDeletion for one node (actuation/actuator.go): the node is
// tainted ToBeDeletedByClusterAutoscaler=<unix time>:NoSchedule and cordoned
// (--cordon-node-before-terminating, true), the ScaleDownEmpty or ScaleDown event recorded;
// after --node-delete-delay-after-taint it is drained (drained nodes) and deleted.
func (ca *clusterAutoscaler) startDeletion(r caRemovable, drain bool) error {
	rt, m := ca.rt, r.m
	now := rt.Now()
	reason := "empty"
	if drain {
		reason = "underutilized"
	}
	rt.MarkRemoving(m, reason)
	taint := corev1.Taint{Key: caToBeDeletedTaint, Value: strconv.FormatInt(now.Unix(), 10), Effect: corev1.TaintEffectNoSchedule}
	if err := rt.Taint(m.Name, taint, true); err != nil {
		if apierrors.IsNotFound(err) {
			rt.CancelRemoving(m)
			return nil
		}
		return err
	}
	ev := analysis.ScaleEventRecord{Type: analysis.ScaleDown, Pool: m.Pool.Name, Shape: m.Shape, Nodes: []string{m.Name},
		Count: 1, Pods: len(r.pods)}
	if drain {
		names := make([]string, len(r.pods))
		for i, p := range r.pods {
			names[i] = p.Name
		}
		ev.Reason = "ScaleDown"
		ev.Message = fmt.Sprintf("Scale-down: removing node %s, utilization: %v, pods to reschedule: %s", m.Name, r.util, strings.Join(names, ","))
	} else {
		ev.Reason = "ScaleDownEmpty"
		ev.Message = fmt.Sprintf("Scale-down: removing empty node %q", m.Name)
	}
	rt.Event(ev)
	rt.ClearUnremovable(m.Name)
	delete(ca.unneeded, m.Name)
	d := &caDeletion{ca: ca, m: m, drain: drain, pods: r.pods, evicted: map[string]bool{}}
	ca.deletions[m.Name] = d
	rt.Clock().At(now.Add(ca.o.NodeDeleteDelayAfterTaint), d.afterTaintDelay)
	return nil
}

func (d *caDeletion) afterTaintDelay() {
	if !d.drain {
		d.deleteNode()
		return
	}
	d.retryUntil = d.ca.rt.Now().Add(d.ca.o.MaxPodEvictionTime)
	d.evict()
}

// evict is Evictor.evictPod for every pod not yet evicted (actuation/drain.go): through the
// eviction API (PDBs enforced), grace min(the pod's terminationGracePeriodSeconds, default
// 30, --max-graceful-termination-sec); a refusal is retried every EvictionRetryTime while
// before --max-pod-eviction-time from the start. A pod gone or moved already counts as
// evicted. DaemonSet pods are not evicted (NotModelled).
func (d *caDeletion) evict() {
	rt := d.ca.rt
	var lastErr error
	var failed string
	for _, p := range d.pods {
		if d.evicted[podKey(p)] {
			continue
		}
		grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
		if p.Spec.TerminationGracePeriodSeconds != nil {
			grace = *p.Spec.TerminationGracePeriodSeconds
		}
		grace = min(grace, int64(d.ca.o.MaxGracefulTerminationSec))
		cur, err := d.ca.getPod(p.Namespace, p.Name)
		if apierrors.IsNotFound(err) || (err == nil && (cur.UID != p.UID || cur.Spec.NodeName != d.m.Name)) {
			d.evicted[podKey(p)] = true
			continue
		}
		if err == nil {
			err = rt.Evict(cur, grace)
		}
		if err == nil || apierrors.IsNotFound(err) {
			d.evicted[podKey(p)] = true
			d.maxGrace = max(d.maxGrace, grace)
			continue
		}
		lastErr, failed = err, podKey(p)
	}
	if lastErr == nil {
		d.waitUntil = rt.Now().Add(time.Duration(d.maxGrace)*time.Second + autoscaling.PodEvictionHeadroom)
		d.waitGone()
		return
	}
	next := rt.Now().Add(autoscaling.EvictionRetryTime)
	if next.Before(d.retryUntil) {
		rt.Clock().At(next, d.evict)
		return
	}
	// Upstream sleeps EvictionRetryTime before it finds the time is up.
	msg := fmt.Sprintf("failed to evict pod %s within allowed timeout (last error: %v)", failed, lastErr)
	rt.Clock().At(next, func() { d.fail(msg) })
}

// waitGone polls every 5 s until the evicted pods are gone from the node, for up to the
// longest grace period plus PodEvictionHeadroom (actuation/drain.go, DrainNodeWithPods).
func (d *caDeletion) waitGone() {
	rt := d.ca.rt
	var left []string
	for _, p := range d.pods {
		cur, err := d.ca.getPod(p.Namespace, p.Name)
		if err == nil && cur.UID == p.UID && cur.Spec.NodeName == d.m.Name {
			left = append(left, podKey(p))
		}
	}
	if len(left) == 0 {
		d.deleteNode()
		return
	}
	if next := rt.Now().Add(5 * time.Second); !next.After(d.waitUntil) {
		rt.Clock().At(next, d.waitGone)
		return
	}
	d.fail(fmt.Sprintf("Failed to drain node %s: pods remaining after timeout: %s", d.m.Name, strings.Join(left, ",")))
}

// deleteNode deletes the Node (the instance is terminated; billing ends).
func (d *caDeletion) deleteNode() {
	ca := d.ca
	delete(ca.deletions, d.m.Name)
	if err := ca.rt.Remove(d.m, ""); err != nil && err != errGone {
		ca.rt.Sim().Abort(fmt.Errorf("cluster-autoscaler: deleting node %s: %w", d.m.Name, err))
	}
}

// fail is CleanUpAndRecordFailedScaleDownEvent (actuation): the ScaleDownFailed event, the
// taint removed and the node uncordoned (taints.CleanToBeDeleted), and
// lastScaleDownFailTime set, which starts --scale-down-delay-after-failure.
func (d *caDeletion) fail(detail string) {
	ca, rt := d.ca, d.ca.rt
	delete(ca.deletions, d.m.Name)
	rt.Event(analysis.ScaleEventRecord{Type: analysis.ScaleDownFailed, Pool: d.m.Pool.Name, Shape: d.m.Shape,
		Nodes: []string{d.m.Name}, Count: 1, Pods: len(d.pods), Reason: "ScaleDownFailed",
		Message: "failed to delete pod for ScaleDown; " + detail})
	if err := rt.Untaint(d.m.Name, caToBeDeletedTaint, true); err != nil && !apierrors.IsNotFound(err) {
		rt.Sim().Abort(fmt.Errorf("cluster-autoscaler: untainting node %s: %w", d.m.Name, err))
		return
	}
	rt.CancelRemoving(d.m)
	ca.lastScaleDownFail = rt.Now()
}

// toBeDeleted is whether the node carries cluster-autoscaler's ToBeDeleted taint
// (taints.HasToBeDeletedTaint): being deleted, so neither a candidate nor a destination.
func toBeDeleted(n *corev1.Node) bool {
	return slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == caToBeDeletedTaint })
}

func splitComma(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (ca *clusterAutoscaler) getPod(ns, name string) (*corev1.Pod, error) {
	o, err := ca.rt.api.Get(ca.rt.podKind, ns, name)
	if err != nil {
		return nil, err
	}
	return o.(*corev1.Pod), nil
}

func (ca *clusterAutoscaler) getNode(name string) (*corev1.Node, error) {
	o, err := ca.rt.api.Get(ca.rt.nodeKind, "", name)
	if err != nil {
		return nil, err
	}
	return o.(*corev1.Node), nil
}
