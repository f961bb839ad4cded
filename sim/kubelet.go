package sim

import (
	"fmt"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// KubeletState is what a node's simulated kubelet (KWOK, for its nodes) is doing. A node's
// kubelet is running unless a trace failed it (the `fail` and `recover` operations).
type KubeletState int

const (
	// KubeletRunning renews the node's lease and reports its status; the stages manage the
	// node and its pods.
	KubeletRunning KubeletState = iota
	// KubeletNotReady renews the lease but reports Ready=False (reason KubeletNotReady), as a
	// kubelet whose container runtime or network is down does; the node's stages are
	// suspended, its pods' stages keep running (the kubelet still kills pods).
	KubeletNotReady
	// KubeletStopped neither renews the lease nor reports anything: after
	// --node-monitor-grace-period the node lifecycle controller marks the node Unknown. The
	// stages of the node and of every pod on it are suspended, so pods being deleted stay
	// Terminating, as on a real node whose kubelet died.
	KubeletStopped
)

func (s KubeletState) String() string {
	switch s {
	case KubeletNotReady:
		return "not-ready"
	case KubeletStopped:
		return "stopped"
	}
	return "running"
}

// kubelets holds the state of every node's kubelet that is not running. It has a lock of its
// own, not API.mu: controllers read it from Watchers, inside a write that holds API.mu.
type kubelets struct {
	mu    sync.Mutex
	nodes map[string]kubeletEntry
}

type kubeletEntry struct {
	state KubeletState
	// since is when the state began: for a stopped kubelet, its last lease renewal.
	since time.Time
}

// Kubelet returns the state of a node's kubelet and since when it has been in it (the zero
// time for a kubelet that has been running since the start).
func (a *API) Kubelet(node string) (KubeletState, time.Time) {
	a.kubelets.mu.Lock()
	defer a.kubelets.mu.Unlock()
	e := a.kubelets.nodes[node]
	return e.state, e.since
}

// FailedKubelets lists the nodes whose kubelet is not running, by name.
func (a *API) FailedKubelets() []string {
	a.kubelets.mu.Lock()
	defer a.kubelets.mu.Unlock()
	out := make([]string, 0, len(a.kubelets.nodes))
	for n := range a.kubelets.nodes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// setKubeletState records a node's kubelet state at the current virtual time; it reports
// whether the state changed.
func (a *API) setKubeletState(node string, st KubeletState) bool {
	a.kubelets.mu.Lock()
	defer a.kubelets.mu.Unlock()
	if a.kubelets.nodes[node].state == st {
		return false
	}
	if st == KubeletRunning {
		delete(a.kubelets.nodes, node)
		return true
	}
	if a.kubelets.nodes == nil {
		a.kubelets.nodes = map[string]kubeletEntry{}
	}
	a.kubelets.nodes[node] = kubeletEntry{state: st, since: a.clock.Now()}
	return true
}

// SetKubelet changes a node's kubelet state at the current virtual time, with the effects a
// real kubelet's failure or recovery has. It is called from clock events (trace operations),
// never from a Watcher; an unknown node is an error.
//
//   - KubeletNotReady: the node's stages are suspended (KWOK's heartbeat would report Ready
//     again), then Ready=False is written through the status subresource as the kubelet's
//     ReadyCondition setter writes it when its runtime is down (reason KubeletNotReady,
//     message "container runtime is down"). Its pods' stages keep running.
//   - KubeletStopped: the stages of the node and of every pod bound to it are suspended:
//     pending transitions are cancelled and none is planned while the kubelet is stopped, for
//     pods bound later too, so nothing reports anything and pods being deleted stay
//     Terminating. The lease stops being renewed (API.Kubelet's since); the node lifecycle
//     controller takes it from there.
//   - KubeletRunning: the node's and its pods' stages are planned afresh on their current
//     state (KWOK's node-initialize sets Ready True again), and pods whose graceful deletion
//     was held up are removed (termination.go).
//
// Without stages (HasKubelets false) nothing reports status in the first place: NotReady
// still writes Ready=False, running again writes back Ready=True (reason KubeletReady) if
// the Ready condition is still the one NotReady wrote, and stopping only stops the lease and
// holds graceful deletions.
func (s *Simulator) SetKubelet(node string, st KubeletState) error {
	if s.api.watching.Load() {
		return s.api.watcherWrote("SetKubelet", kinds["Node"], "", node)
	}
	if _, err := s.api.Get(kinds["Node"], "", node); err != nil {
		return err
	}
	prev, _ := s.api.Kubelet(node)
	if !s.api.setKubeletState(node, st) {
		return nil
	}
	if s.stages != nil {
		s.stages.kubeletChanged(node, prev, st)
	}
	switch {
	case st == KubeletNotReady:
		if err := s.writeReady(node, corev1.ConditionFalse, "KubeletNotReady", "container runtime is down"); err != nil {
			return err
		}
	case st == KubeletRunning && s.stages == nil && prev == KubeletNotReady:
		if err := s.writeReady(node, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"); err != nil {
			return err
		}
	}
	if st == KubeletStopped || prev == KubeletStopped {
		s.terminations.kubeletChanged(node)
	}
	return nil
}

// writeReady writes the node's Ready condition as the kubelet's ReadyCondition setter
// (pkg/kubelet/nodestatus/setters.go) does: lastTransitionTime moves only when the status
// changes, and a change is reported with a NodeReady or NodeNotReady event. Without stages,
// running again restores Ready=True only over the condition NotReady wrote.
func (s *Simulator) writeReady(node string, status corev1.ConditionStatus, reason, msg string) error {
	obj, err := s.api.Get(kinds["Node"], "", node)
	if err != nil {
		return err
	}
	n := obj.(*corev1.Node).DeepCopy()
	now := metaTime(s.clock.Now())
	c := corev1.NodeCondition{Type: corev1.NodeReady, Status: status, Reason: reason, Message: msg,
		LastHeartbeatTime: now, LastTransitionTime: now}
	found := false
	for i := range n.Status.Conditions {
		old := &n.Status.Conditions[i]
		if old.Type != corev1.NodeReady {
			continue
		}
		if status == corev1.ConditionTrue && old.Reason != "KubeletNotReady" {
			return nil
		}
		if old.Status == status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		found = true
		*old = c
	}
	if !found {
		if status == corev1.ConditionTrue {
			return nil
		}
		n.Status.Conditions = append(n.Status.Conditions, c)
	}
	if _, err := s.api.UpdateStatus(n); err != nil {
		return err
	}
	event := "NodeNotReady"
	if status == corev1.ConditionTrue {
		event = "NodeReady"
	}
	s.rec.record(Event{At: s.Elapsed(), Kind: "Node", Name: node, Type: corev1.EventTypeNormal, Reason: event,
		Message: fmt.Sprintf("Node %s status is now: %s", node, event)})
	return nil
}

// HasKubelets tells whether the run simulates kubelets at all: with no stages, nothing ever
// reports a node's or a pod's status, and the controllers that react to a kubelet's silence
// (node lifecycle) must not take that for a failure.
func (s *Simulator) HasKubelets() bool { return len(s.cfg.Stages) > 0 }
