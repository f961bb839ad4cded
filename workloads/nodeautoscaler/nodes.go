package nodeautoscaler

import (
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
)

// newMember names the next node of a pool's shape (skipping names already taken by Nodes
// that are not the pool's) and records it.
func (rt *Runtime) newMember(p *Pool, shape string, initial bool) *Member {
	var name string
	for {
		name = autoscaling.NodeName(p.Name, shape, p.next[shape])
		p.next[shape]++
		if _, err := rt.api.Get(rt.nodeKind, "", name); apierrors.IsNotFound(err) && rt.members[name] == nil {
			break
		}
	}
	m := &Member{Name: name, Shape: shape, Pool: p}
	m.Record = rt.nodeRecord(m, initial)
	rt.addMember(m)
	return m
}

func (rt *Runtime) nodeRecord(m *Member, initial bool) *analysis.AutoscaledNodeRecord {
	rec := &analysis.AutoscaledNodeRecord{Name: m.Name, Pool: m.Pool.Name, Shape: m.Shape,
		PricePerHour: m.Pool.Shape(m.Shape).PricePerHour, LaunchedAt: rt.Elapsed(), Initial: initial}
	rt.rec.Nodes = append(rt.rec.Nodes, rec)
	return rec
}

func (rt *Runtime) addMember(m *Member) {
	rt.members[m.Name] = m
	m.Pool.members = append(m.Pool.members, m)
}

func (rt *Runtime) dropMember(m *Member) {
	delete(rt.members, m.Name)
	p := m.Pool
	p.members = slices.DeleteFunc(p.members, func(x *Member) bool { return x == m })
}

// Launch asks for n nodes of a pool's shape now: each is billed from now, and its Node object
// is created after a delay drawn uniformly, to the millisecond, from the pool's provisioning
// range with the run's seed (kwoksim's model of a cloud instance booting and its kubelet
// registering). The node stages then make it Ready as they do any node. The caller records
// the decision (Event).
func (rt *Runtime) Launch(p *Pool, shape string, n int) ([]*Member, error) {
	if p.Shape(shape) == nil {
		return nil, fmt.Errorf("NodePool %s has no shape %q", p.Name, shape)
	}
	var out []*Member
	for range n {
		m := rt.newMember(p, shape, false)
		d := rt.provisioningDelay(p)
		m.launch = rt.clock.At(rt.Now().Add(d), func() {
			m.launch = nil
			if _, err := rt.register(m); err != nil {
				rt.Event(analysis.ScaleEventRecord{Type: analysis.ScaleUpFailed, Pool: p.Name, Shape: shape,
					Nodes: []string{m.Name}, Count: 1, Reason: "FailedToRegister", Message: err.Error()})
				m.Record.FailedToRegister = true
				rt.gone(m, "failed to register")
			}
		})
		out = append(out, m)
	}
	return out, nil
}

func (rt *Runtime) provisioningDelay(p *Pool) time.Duration {
	d := p.Spec.Provisioning.Delay
	steps := int64((d.Max - d.Min) / time.Millisecond)
	if steps <= 0 {
		return d.Min
	}
	return d.Min + time.Duration(rt.rng.Int64N(steps+1))*time.Millisecond
}

// register creates the member's Node object.
func (rt *Runtime) register(m *Member) (*corev1.Node, error) {
	n, err := m.Pool.Node(m.Shape, 0)
	if err != nil {
		return nil, err
	}
	n.Name = m.Name
	n.Labels[corev1.LabelHostname] = m.Name
	obj, err := rt.api.Create(n)
	if err != nil {
		return nil, err
	}
	m.Record.RegisteredAt = rt.elapsedPtr()
	return obj.(*corev1.Node), nil
}

// GiveUp abandons a launch whose Node has not registered (cluster-autoscaler's
// max-node-provision-time, Karpenter's registration timeout): it will not appear, and its
// billing ends now.
func (rt *Runtime) GiveUp(m *Member) {
	if m.launch != nil {
		m.launch.Cancel()
		m.launch = nil
	}
	m.Record.FailedToRegister = true
	rt.gone(m, "failed to register")
}

// gone ends a member: deleted now, billing ends.
func (rt *Runtime) gone(m *Member, reason string) {
	if m.Record.DeletedAt == nil {
		m.Record.DeletedAt = rt.elapsedPtr()
	}
	if m.Record.RemovalReason == "" {
		m.Record.RemovalReason = reason
	}
	rt.dropMember(m)
	rt.ClearUnremovable(m.Name)
}

// MarkRemoving records that the autoscaler chose to remove the member, and why.
func (rt *Runtime) MarkRemoving(m *Member, reason string) {
	if m.Record.DrainStartedAt == nil {
		m.Record.DrainStartedAt = rt.elapsedPtr()
	}
	m.Record.RemovalReason = reason
}

// CancelRemoving records that a removal was given up (its node stays).
func (rt *Runtime) CancelRemoving(m *Member) {
	m.Record.DrainStartedAt = nil
	m.Record.RemovalReason = ""
}

// Remove deletes the member's Node object (a launch not yet registered is given up): the
// instance is terminated and billing ends. Pods still bound to it are the pod garbage
// collector's, as in a real cluster.
func (rt *Runtime) Remove(m *Member, reason string) error {
	if m.Record.DeletedAt != nil {
		return errGone
	}
	if !m.Registered() {
		rt.GiveUp(m)
		return nil
	}
	if m.Record.RemovalReason == "" || reason != "" {
		m.Record.RemovalReason = reason
	}
	if err := rt.api.Delete(rt.nodeKind, "", m.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	rt.gone(m, reason)
	return nil
}

// Taint adds a taint to a node (replacing one with the same key and effect), and cordons it
// when cordon is set.
func (rt *Runtime) Taint(node string, t corev1.Taint, cordon bool) error {
	return rt.updateNode(node, func(n *corev1.Node) {
		n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(x corev1.Taint) bool { return x.Key == t.Key && x.Effect == t.Effect })
		n.Spec.Taints = append(n.Spec.Taints, t)
		if cordon {
			n.Spec.Unschedulable = true
		}
	})
}

// Untaint removes the taints with that key, and uncordons the node when uncordon is set.
func (rt *Runtime) Untaint(node, key string, uncordon bool) error {
	return rt.updateNode(node, func(n *corev1.Node) {
		n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(x corev1.Taint) bool { return x.Key == key })
		if uncordon {
			n.Spec.Unschedulable = false
		}
	})
}

func (rt *Runtime) updateNode(name string, change func(*corev1.Node)) error {
	obj, err := rt.api.Get(rt.nodeKind, "", name)
	if err != nil {
		return err
	}
	n := obj.(*corev1.Node).DeepCopy()
	change(n)
	_, err = rt.api.Update(n)
	return err
}

// Evict asks the eviction API to evict a pod with that grace period: a PodDisruptionBudget
// that allows no disruption refuses it with 429 TooManyRequests (apierrors.IsTooManyRequests),
// as the real apiserver does, and the refusal reaches the report's disruption budgets.
func (rt *Runtime) Evict(pod *corev1.Pod, graceSeconds int64) error {
	return rt.api.Evict(&policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name},
		DeleteOptions: &metav1.DeleteOptions{GracePeriodSeconds: &graceSeconds},
	})
}
