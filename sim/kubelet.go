package sim

import (
	"sort"
	"sync"
	"time"
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
	// watchers are told of every change (sim/kubeletwatch.go).
	watchers []func(node string, st KubeletState)
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
func (a *API) setKubeletState(node string, st KubeletState) (changed bool) {
	defer func() { a.notifyKubelet(changed, node, st) }() // after the unlock below
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

// SetKubelet changes a node's kubelet state at the current virtual time. It is called from
// clock events (trace operations), never from a Watcher.
//
// TODO(sim-core): the effects — a kubelet turning NotReady writes Ready=False to the node's
// status, the stage runner suspends the node (and, for a stopped kubelet, its pods) and
// resumes them when the kubelet runs again.
func (s *Simulator) SetKubelet(node string, st KubeletState) error {
	s.api.setKubeletState(node, st)
	return nil
}

// HasKubelets tells whether the run simulates kubelets at all: with no stages, nothing ever
// reports a node's or a pod's status, and the controllers that react to a kubelet's silence
// (node lifecycle) must not take that for a failure.
func (s *Simulator) HasKubelets() bool { return len(s.cfg.Stages) > 0 }
