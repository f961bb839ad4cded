package sim

// WatchKubelets registers fn to be told of every change of a node's kubelet state
// (Simulator.SetKubelet). A kubelet that stops writes nothing to the API, yet the node
// lifecycle controller must know at once: a run whose last event stops a kubelet must not
// end before the node is marked Unknown. fn runs in the clock event that changed the state,
// outside any Watcher, and must not block.
func (a *API) WatchKubelets(fn func(node string, st KubeletState)) {
	a.kubelets.mu.Lock()
	defer a.kubelets.mu.Unlock()
	a.kubelets.watchers = append(a.kubelets.watchers, fn)
}

func (a *API) notifyKubelet(changed bool, node string, st KubeletState) {
	if !changed {
		return
	}
	a.kubelets.mu.Lock()
	ws := a.kubelets.watchers
	a.kubelets.mu.Unlock()
	for _, w := range ws {
		w(node, st)
	}
}
