package analysis

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// WorkloadDisruption is one episode in which a workload lost pods to a disruption and, when
// it recovered, how long that took. An episode starts when one of its pods is disrupted while
// the workload has no episode open: the pod is evicted (see EvictionReport), or deleted while
// bound to a node that no longer exists (pod GC of an orphan). Pods disrupted before it
// recovered join the episode. It ends when the workload has as many Ready pods as it wants:
// pods that are Ready and not terminating, as the workload controllers count readyReplicas
// (controller.FilterActivePods in pkg/controller/controller_utils.go).
//
// What it wants is the workload's desired count at the end of the run (WorkloadReport.Desired)
// for every kind but Job, whose desired count drops to 0 when it finishes; for a Job it is the
// number of Ready pods it had just before the episode started.
type WorkloadDisruption struct {
	// Start is when the first pod of the episode was disrupted (virtual seconds).
	Start float64 `json:"start"`
	// Pods counts the pods disrupted during the episode.
	Pods int `json:"pods"`
	// Wanted is the Ready pods it waited for (see above), and MinReady the fewest Ready pods
	// it had during the episode.
	Wanted   int `json:"wanted"`
	MinReady int `json:"minReady"`
	// RecoveredAt is when it had its Ready pods again, and RecoverySeconds RecoveredAt -
	// Start; both null when it had not by the end of the run.
	RecoveredAt     *float64 `json:"recoveredAt"`
	RecoverySeconds *float64 `json:"recoverySeconds"`
}

type workloadKey struct{ kind, namespace, name string }

// podOwners maps each pod (by its index in pods) to the workload that owns it, -1 for none:
// its controller, or the Deployment controlling its ReplicaSet when that exists, among the
// workloads listed in the report.
func podOwners(pods []PodRecord, objs []runtime.Object, listed []WorkloadReport) []int {
	index := make(map[workloadKey]int, len(listed))
	for i, w := range listed {
		index[workloadKey{w.Kind, w.Namespace, w.Name}] = i
	}
	// rsOwner is the Deployment controlling each ReplicaSet.
	rsOwner := map[workloadKey]string{}
	for _, o := range objs {
		if rs, ok := o.(*appsv1.ReplicaSet); ok {
			if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.Kind == "Deployment" {
				rsOwner[workloadKey{"ReplicaSet", rs.Namespace, rs.Name}] = ref.Name
			}
		}
	}
	out := make([]int, len(pods))
	for i, rec := range pods {
		out[i] = -1
		if rec.Pod == nil {
			continue
		}
		ref := metav1.GetControllerOfNoCopy(rec.Pod)
		if ref == nil {
			continue
		}
		k := workloadKey{ref.Kind, rec.Pod.Namespace, ref.Name}
		if ref.Kind == "ReplicaSet" {
			if d, ok := rsOwner[k]; ok {
				if j, ok := index[workloadKey{"Deployment", k.namespace, d}]; ok {
					out[i] = j
					continue
				}
			}
		}
		if j, ok := index[k]; ok {
			out[i] = j
		}
	}
	return out
}

// disruption is one pod's disruption.
type disruption struct {
	at  time.Duration
	pod int32
}

// disruptions lists the pods disrupted (see WorkloadDisruption), by time then pod index.
func disruptions(pods []PodRecord, nodes []NodeChange) []disruption {
	// changes are each node's creations and deletions, in order, to tell whether it existed
	// at a given time.
	changes := map[string][]NodeChange{}
	for _, n := range nodes {
		if cs := changes[n.Name]; n.Gone || len(cs) == 0 || cs[len(cs)-1].Gone {
			changes[n.Name] = append(cs, NodeChange{At: n.At, Gone: n.Gone})
		}
	}
	goneAt := func(node string, at time.Duration) bool {
		gone := false
		for _, c := range changes[node] {
			if c.At > at {
				break
			}
			gone = c.Gone
		}
		return gone
	}
	var out []disruption
	for i, rec := range pods {
		switch {
		case rec.EvictedAt != nil:
			out = append(out, disruption{*rec.EvictedAt, int32(i)})
		case rec.TerminatingAt != nil && rec.Pod != nil && rec.Pod.Spec.NodeName != "" && goneAt(rec.Pod.Spec.NodeName, *rec.TerminatingAt):
			out = append(out, disruption{*rec.TerminatingAt, int32(i)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out
}

// workloadDisruptions sweeps the pod change log to find, per listed workload, its disruption
// episodes and when each recovered; nil when no pod was disrupted.
func workloadDisruptions(o Observation, listed []WorkloadReport) [][]WorkloadDisruption {
	ds := disruptions(o.Pods, o.History.Nodes)
	if len(ds) == 0 {
		return nil
	}
	out := make([][]WorkloadDisruption, len(listed))
	owner := podOwners(o.Pods, o.Workloads, listed)
	ready := make([]int, len(listed))
	counted := make([]bool, len(o.Pods))
	// open is the index in out[w] of w's open episode, -1 when none; target its wanted
	// Ready pods.
	open := make([]int, len(listed))
	target := make([]int, len(listed))
	for i := range open {
		open[i] = -1
	}
	// before is each touched workload's Ready pods before the changes of the current
	// instant; touched lists those workloads in the order first touched.
	before := make([]int, len(listed))
	seen := make([]bool, len(listed))
	var touched []int
	touch := func(w int) {
		if !seen[w] {
			seen[w], before[w] = true, ready[w]
			touched = append(touched, w)
		}
	}
	changes := o.History.Pods
	ci, di := 0, 0
	for ci < len(changes) || di < len(ds) {
		// The next instant: the earlier of the next change and the next disruption.
		var now time.Duration
		switch {
		case ci == len(changes):
			now = ds[di].at
		case di == len(ds):
			now = changes[ci].At
		default:
			now = min(changes[ci].At, ds[di].at)
		}
		for ; ci < len(changes) && changes[ci].At == now; ci++ {
			c := changes[ci]
			w := owner[c.Pod]
			if w < 0 {
				continue
			}
			is := c.Ready && !c.Terminating && !c.Gone && c.Phase == corev1.PodRunning
			if is == counted[c.Pod] {
				continue
			}
			touch(w)
			counted[c.Pod] = is
			if is {
				ready[w]++
			} else {
				ready[w]--
			}
		}
		for ; di < len(ds) && ds[di].at == now; di++ {
			w := owner[ds[di].pod]
			if w < 0 {
				continue
			}
			touch(w)
			if open[w] >= 0 {
				out[w][open[w]].Pods++
				continue
			}
			target[w] = int(listed[w].Desired)
			if listed[w].Kind == "Job" {
				target[w] = before[w]
			}
			open[w] = len(out[w])
			out[w] = append(out[w], WorkloadDisruption{Start: now.Seconds(), Pods: 1, Wanted: target[w], MinReady: ready[w]})
		}
		for _, w := range touched {
			seen[w] = false
			if open[w] < 0 {
				continue
			}
			e := &out[w][open[w]]
			e.MinReady = min(e.MinReady, ready[w])
			if ready[w] >= target[w] {
				at, took := now.Seconds(), now.Seconds()-e.Start
				e.RecoveredAt, e.RecoverySeconds = &at, &took
				open[w] = -1
			}
		}
		touched = touched[:0]
	}
	return out
}
