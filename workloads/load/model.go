package load

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"

	"github.com/kwoksim/kwoksim/sim"
)

// The resources the model knows, as indexes of its arrays: CPU in millicores, memory in bytes.
const (
	cpu = iota
	memory
	nres
)

var resourceNames = [nres]corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}

var annotationNames = [nres]string{CPUUsageAnnotation, MemoryUsageAnnotation}

// units is a quantity in the model's unit for resource r: millicores, or bytes (a fraction
// of a byte rounds up, as Quantity.Value does).
func units(r int, q resource.Quantity) int64 {
	if r == cpu {
		return q.MilliValue()
	}
	return q.Value()
}

// resourceIndex is the index of a resource name, -1 for a resource the model has no usage of.
func resourceIndex(name corev1.ResourceName) int {
	for r, n := range resourceNames {
		if n == name {
			return r
		}
	}
	return -1
}

// workload is a workload a load operation gave a demand.
type workload struct {
	ref      Ref
	selector labels.Selector
	// demand is the total demand of each resource where set says a load operation set it.
	demand [nres]int64
	set    [nres]bool
	// ready counts its Ready pods (see pod.ready); readyReq sums their requests.
	ready    int32
	readyReq [nres]int64
	rec      *record
}

// use is what the workload's pods use of resource r together: the whole demand while at
// least one pod is Ready to take it (the split is exact, see share), nothing otherwise.
func (w *workload) use(r int) int64 {
	if w.set[r] && w.ready > 0 {
		return w.demand[r]
	}
	return 0
}

// pod is what the model keeps of a pod it follows.
type pod struct {
	name   string
	labels map[string]string // the stored object's map, never modified
	// ws are the loaded workloads that select it, in load order.
	ws []*workload
	// ready: the Ready condition is True and the pod is not terminating, so it shares its
	// workloads' demand (as a Service sends traffic to its ready endpoints only). running:
	// phase Running, when annotated usage counts and the metrics API reports the pod.
	ready, running bool
	// annot is the usage annotation of each resource where hasAnnot says it is given.
	annot    [nres]int64
	hasAnnot [nres]bool
	// containers are the pod's containers with their requests, regular then sidecar (as
	// upstream's calculatePodRequestsFromContainers counts them); req sums them.
	containers []container
	req        [nres]int64
	// node is the pod's node ("" while unscheduled); cpuLimit the sum of its containers' CPU
	// limits when every one of them has one (the most it can use), 0 otherwise.
	node     string
	cpuLimit int64
	// owner is the record annotated usage counts in (the pod's top controller), nil when
	// the pod has no annotation.
	owner *record
}

type container struct {
	name string
	req  [nres]int64
}

// mode says where a pod's usage of a resource comes from.
type mode int

const (
	noData mode = iota
	fromDemand
	fromAnnotation
)

// mode is where p's usage of r comes from: the demand of a workload that selects it wins
// over the pod's annotation.
func (p *pod) mode(r int) mode {
	for _, w := range p.ws {
		if w.set[r] {
			return fromDemand
		}
	}
	if p.hasAnnot[r] {
		return fromAnnotation
	}
	return noData
}

// hasUsageAnnotation is whether a pod carries either usage annotation.
func hasUsageAnnotation(p *corev1.Pod) bool {
	for _, a := range annotationNames {
		if _, ok := p.Annotations[a]; ok {
			return true
		}
	}
	return false
}

// observe is the model's Watcher: it reads, never writes.
func (m *Model) observe(ev sim.WatchEvent) {
	switch ev.Kind.Name() {
	case "Pod":
		m.observePod(ev)
	case "Node":
		m.observeNode(ev)
	case "Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet":
		if len(m.byRef) > 0 {
			m.observeWorkload(ev)
		}
	}
}

// observePod follows one pod's change. A pod of a namespace without loaded workloads and
// without usage annotations costs a few map lookups; otherwise the pod is matched against each
// loaded workload of its namespace once, and the totals are updated by its difference.
func (m *Model) observePod(ev sim.WatchEvent) {
	obj, ok := ev.Object.(*corev1.Pod)
	if !ok {
		return
	}
	ws := m.loaded[obj.Namespace]
	old := m.pods[obj.Namespace][obj.Name]
	if old == nil && len(ws) == 0 && !hasUsageAnnotation(obj) {
		return
	}
	if old != nil {
		m.account(old, -1)
		delete(m.pods[obj.Namespace], obj.Name)
	}
	if ev.Type != watch.Deleted {
		m.follow(obj, ws, old)
	}
	m.flush()
}

// follow starts following a pod as it is now, if a loaded workload selects it or it is
// annotated, and counts it.
func (m *Model) follow(obj *corev1.Pod, ws []*workload, old *pod) {
	p := &pod{name: obj.Name, labels: obj.Labels}
	if len(ws) > 0 {
		set := labels.Set(obj.Labels)
		for _, w := range ws {
			if w.selector.Matches(set) {
				p.ws = append(p.ws, w)
			}
		}
	}
	for r, a := range annotationNames {
		if s, ok := obj.Annotations[a]; ok {
			// The loader refused a bad annotation (workloads/manifest); one
			// that slipped through otherwise (a stage's patch) is no data.
			if q, err := resource.ParseQuantity(s); err == nil && q.Sign() >= 0 {
				p.annot[r], p.hasAnnot[r] = units(r, q), true
			}
		}
	}
	if len(p.ws) == 0 && !p.hasAnnot[cpu] && !p.hasAnnot[memory] {
		return
	}
	p.running = obj.Status.Phase == corev1.PodRunning
	p.ready = obj.DeletionTimestamp == nil && podutil.IsPodReady(obj)
	p.containers, p.req = containersOf(obj)
	p.node, p.cpuLimit = obj.Spec.NodeName, cpuLimit(obj)
	if p.hasAnnot[cpu] || p.hasAnnot[memory] {
		if old != nil && old.owner != nil {
			p.owner = old.owner
		} else {
			p.owner = m.recordFor(m.topController(obj))
		}
	}
	if m.pods[obj.Namespace] == nil {
		m.pods[obj.Namespace] = map[string]*pod{}
	}
	m.pods[obj.Namespace][obj.Name] = p
	m.account(p, +1)
}

// containersOf lists the containers whose requests upstream's HPA counts (regular ones, then
// sidecars: restartable init containers; calculatePodRequestsFromContainers,
// replica_calculator.go) with their requests, and their sum.
func containersOf(p *corev1.Pod) ([]container, [nres]int64) {
	var out []container
	var sum [nres]int64
	add := func(c *corev1.Container) {
		cc := container{name: c.Name}
		for r, n := range resourceNames {
			if q, ok := c.Resources.Requests[n]; ok {
				cc.req[r] = units(r, q)
				sum[r] += cc.req[r]
			}
		}
		out = append(out, cc)
	}
	for i := range p.Spec.Containers {
		add(&p.Spec.Containers[i])
	}
	for i := range p.Spec.InitContainers {
		if c := &p.Spec.InitContainers[i]; c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(c)
		}
	}
	return out, sum
}

// cpuLimit is the most CPU the pod's containers may use together (their CFS quotas), in
// millicores: the sum of their limits when each counted container has one, else 0 (no bound).
func cpuLimit(p *corev1.Pod) int64 {
	var sum int64
	each := func(c *corev1.Container) bool {
		q, ok := c.Resources.Limits[corev1.ResourceCPU]
		if !ok || q.Sign() <= 0 {
			return false
		}
		sum += q.MilliValue()
		return true
	}
	for i := range p.Spec.Containers {
		if !each(&p.Spec.Containers[i]) {
			return 0
		}
	}
	for i := range p.Spec.InitContainers {
		if c := &p.Spec.InitContainers[i]; c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways && !each(c) {
			return 0
		}
	}
	return sum
}

// account adds (sign +1) or takes away (-1) a pod's part of every total it counts in: its
// loaded workloads' Ready counts and requests, its top controller's annotated usage, and the
// cluster's totals. A change of a pod is its old part taken away and its new part added.
func (m *Model) account(p *pod, sign int64) {
	if p.ready {
		for _, w := range p.ws {
			for r := range nres {
				m.demandUse[r] -= w.use(r)
			}
			w.ready += int32(sign)
			for r := range nres {
				w.readyReq[r] += sign * p.req[r]
				m.demandUse[r] += w.use(r)
			}
			m.touch(w.rec)
		}
	}
	annotated := false
	for r := range nres {
		switch p.mode(r) {
		case fromDemand:
			m.had = true
			if p.ready {
				m.demandReq[r] += sign * p.req[r]
			}
		case fromAnnotation:
			m.had, annotated = true, true
			if p.running {
				p.owner.annoUse[r] += sign * p.annot[r]
				p.owner.annoReq[r] += sign * p.req[r]
				m.annoUse[r] += sign * p.annot[r]
				m.annoReq[r] += sign * p.req[r]
				m.touch(p.owner)
			}
		}
	}
	if annotated && p.ready {
		p.owner.annoReady += int32(sign)
		m.touch(p.owner)
	}
}

// resync counts again every pod of a namespace around change, which alters what the loaded
// workloads select or demand: each pod followed is taken away, change runs, and each pod of
// the namespace is followed anew. O(pods of the cluster), for a load operation or a loaded
// workload's new selector, never for a pod's change.
func (m *Model) resync(ns string, change func()) {
	for _, name := range slices.Sorted(maps.Keys(m.pods[ns])) {
		m.account(m.pods[ns][name], -1)
	}
	olds := m.pods[ns]
	delete(m.pods, ns)
	change()
	pods, err := m.s.API().ListShared(podKind)
	if err == nil {
		for _, o := range pods {
			if p := o.(*corev1.Pod); p.Namespace == ns {
				m.follow(p, m.loaded[ns], olds[p.Name])
			}
		}
	}
	m.flush()
}

// observeWorkload re-reads a loaded workload's selector when the workload is created again
// or changed: its pods are then those the new selector matches. A loaded workload that is
// deleted keeps its demand and selector (its pods go with it), and a workload created
// again under its name takes them up.
func (m *Model) observeWorkload(ev sim.WatchEvent) {
	if ev.Type == watch.Deleted {
		return
	}
	ref, ok := refOf(ev.Kind.Name(), ev.Object)
	if !ok {
		return
	}
	w := m.byRef[ref]
	if w == nil {
		return
	}
	sel, err := selectorOf(ev.Object)
	if err != nil || sel.String() == w.selector.String() {
		return
	}
	m.resync(ref.Namespace, func() { w.selector = sel })
}

var podKind = func() *sim.Kind {
	k, err := sim.KindNamed("Pod")
	if err != nil {
		panic(err)
	}
	return k
}()

// refOf names a stored object as a workload of kind.
func refOf(kind string, obj runtime.Object) (Ref, bool) {
	m, ok := obj.(interface {
		GetNamespace() string
		GetName() string
	})
	if !ok {
		return Ref{}, false
	}
	return Ref{Kind: kind, Namespace: m.GetNamespace(), Name: m.GetName()}, true
}
