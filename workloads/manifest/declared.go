package manifest

import (
	"fmt"
	"math"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Declared is what a run's inputs commit it to storing, counted before it starts, so that an
// input that cannot fit under the object or memory limit (replicas: 2000000) fails in
// seconds rather than after minutes of simulation. It is a lower bound: the objects given
// and the pods their controllers will create at once, no more.
type Declared struct {
	// Objects counts the objects given (nodes included) and those their controllers create:
	// a Deployment's ReplicaSet and replicas, the replicas of a ReplicaSet,
	// ReplicationController or StatefulSet, a Job's parallelism (at most its completions),
	// a DaemonSet's pod on each node its nodeSelector matches (a DaemonSet with required node
	// affinity counts none). A CronJob counts itself only; so does an object already stored
	// (from a snapshot, with a UID: what it owns is in the snapshot too) or one with a
	// controller (its controller counts for it). Traces and objects created later are not
	// counted.
	Objects int64
	// Largest is the object that declares the most pods, LargestPods how many (0: none does).
	Largest     Object
	LargestPods int64
}

// LargestText names the largest workload and its pods: "pod.yaml:1: Deployment default/web:
// 2000000 pods"; empty when no object declares pods.
func (d Declared) LargestText() string {
	if d.LargestPods == 0 {
		return ""
	}
	o := d.Largest
	name := ""
	if m, err := meta.Accessor(o.Obj); err == nil {
		name = m.GetName()
		if ns := m.GetNamespace(); ns != "" {
			name = ns + "/" + name
		}
	}
	return fmt.Sprintf("%s: %s %s: %d pods", o.Source, o.Obj.GetObjectKind().GroupVersionKind().Kind, name, d.LargestPods)
}

// Declare counts what objs (nodes and workloads together) declare.
func Declare(objs []Object) Declared {
	var nodes []*corev1.Node
	for _, o := range objs {
		if n, ok := o.Obj.(*corev1.Node); ok {
			nodes = append(nodes, n)
		}
	}
	var d Declared
	for _, o := range objs {
		d.Objects++
		m, err := meta.Accessor(o.Obj)
		if err != nil || m.GetUID() != "" || metav1.GetControllerOf(m) != nil {
			continue
		}
		var pods, more int64
		switch w := o.Obj.(type) {
		case *appsv1.Deployment:
			pods, more = replicas(w.Spec.Replicas), 1 // and its ReplicaSet
			if surgeWraps(w) {
				pods = 0
			}
		case *appsv1.ReplicaSet:
			pods = replicas(w.Spec.Replicas)
		case *appsv1.StatefulSet:
			pods = replicas(w.Spec.Replicas)
		case *corev1.ReplicationController:
			pods = replicas(w.Spec.Replicas)
		case *batchv1.Job:
			pods = replicas(w.Spec.Parallelism)
			if c := w.Spec.Completions; c != nil {
				pods = min(pods, int64(max(*c, 0)))
			}
		case *appsv1.DaemonSet:
			if a := w.Spec.Template.Spec.Affinity; a != nil && a.NodeAffinity != nil &&
				a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
				break
			}
			for _, n := range nodes {
				if selects(w.Spec.Template.Spec.NodeSelector, n.Labels) {
					pods++
				}
			}
		}
		d.Objects += pods + more
		if pods > d.LargestPods {
			d.Largest, d.LargestPods = o, pods
		}
	}
	return d
}

// replicas is a count with the apiserver's default, 1; a negative one (refused when the
// object is created) counts none.
func replicas(n *int32) int64 {
	if n == nil {
		return 1
	}
	return int64(max(*n, 0))
}

// surgeWraps reports whether a rolling update's replicas + maxSurge (default 25%) passes the
// int32 maximum: the real deployment controller's sum then wraps negative and it creates no
// pods (workloads/deployment warns of it), so none are counted.
func surgeWraps(d *appsv1.Deployment) bool {
	if d.Spec.Replicas == nil || d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return false
	}
	surge := intstr.FromString("25%")
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil && ru.MaxSurge != nil {
		surge = *ru.MaxSurge
	}
	v, err := intstr.GetScaledValueFromIntOrPercent(&surge, int(*d.Spec.Replicas), true)
	return err == nil && int64(*d.Spec.Replicas)+int64(v) > math.MaxInt32
}

// selects reports whether every pair of selector is among labels.
func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if l, ok := labels[k]; !ok || l != v {
			return false
		}
	}
	return true
}
