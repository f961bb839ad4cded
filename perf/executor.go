package perf

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/sim"
)

// waitTimeout is how long upstream waits for pods (executor.go: 10 minutes, the default of
// podsSchedulingTimeout), here in virtual time.
const waitTimeout = 10 * time.Minute

// streamPerf is the RNG purpose of the names and UUIDs kwoksim perf draws itself.
const streamPerf uint64 = 0x70657266 // "perf"

// executor is upstream's WorkloadExecutor on a simulator: ops run one after another at the
// current virtual instant; a wait lets virtual time run until its condition holds.
type executor struct {
	// ctx is the run's, for the DRA allocator (allocResourceClaims).
	ctx  context.Context
	s    *sim.Simulator
	api  *sim.API
	tc   *TestCase
	w    *Workload
	r    *Result
	tmpl *templates
	pods *podIndex
	rng  *rand.Rand
	// podKind and nodeKind are the kinds the ops read and write most.
	podKind, nodeKind *sim.Kind
	// numPodsScheduledPerNamespace is upstream's: the pods barriers wait for, by namespace.
	numPodsScheduledPerNamespace map[string]int
	nextNodeIndex                int
	// collector is the measurement started by startCollectingMetrics, if any.
	collector *collector
	// churns stop when the workload ends, as upstream cancels them.
	churns []*churn
	// deletions are the rate-limited deletions still to run; deleteErr the first that failed
	// (upstream fails the workload on it, tCtx.Errorf).
	deletions int
	deleteErr error
}

func newExecutor(ctx context.Context, s *sim.Simulator, cfg *Config, tc *TestCase, w *Workload, r *Result) *executor {
	e := &executor{ctx: ctx, s: s, api: s.API(), tc: tc, w: w, r: r, tmpl: newTemplates(cfg.Dir), pods: newPodIndex(),
		rng: s.Rand(streamPerf), numPodsScheduledPerNamespace: map[string]int{}}
	e.podKind, _ = sim.KindNamed("Pod") // served by every simulator
	e.nodeKind, _ = sim.KindNamed("Node")
	s.API().Watch(e.pods.observe)
	return e
}

// runOp is upstream's WorkloadExecutor.runOp.
func (e *executor) runOp(i int, o realOp) error {
	switch o := o.(type) {
	case *createNodesOp:
		return e.createNodes(i, o)
	case *createNamespacesOp:
		return e.createNamespaces(o)
	case *createPodsOp:
		return e.createPods(i, o)
	case *deletePodsOp:
		return e.deletePods(o)
	case *churnOp:
		return e.churn(i, o)
	case *barrierOp:
		return e.barrier(o)
	case *sleepOp:
		_, err := e.s.RunUntil(e.s.Elapsed()+o.Duration.Duration, nil)
		return err
	case *createAny:
		return e.createAny(o)
	case *createResourceClaimsOp:
		return e.createResourceClaims(o)
	case *allocResourceClaimsOp:
		return e.allocResourceClaims(o)
	case *startCollectingMetricsOp:
		if e.collector != nil {
			return fmt.Errorf("metrics collection is overlapping. Probably second collector was started before stopping a previous one")
		}
		for _, ns := range o.Namespaces {
			if err := e.ensureNamespace(ns); err != nil {
				return err
			}
		}
		e.startCollecting(i, o.Name, o.Namespaces, o.LabelSelector)
		return nil
	case *stopCollectingMetricsOp:
		if e.collector == nil {
			return fmt.Errorf("missing startCollectingMetrics operation before stopping")
		}
		e.stopCollecting()
		return nil
	}
	return fmt.Errorf("op %T is not supported", o)
}

// finish ends what runs in the background: churn stops, as upstream cancels it when the
// workload is done, and what it did is noted.
func (e *executor) finish() {
	for _, c := range e.churns {
		c.stop()
		e.r.Notes = append(e.r.Notes, c.summary())
		e.r.Churn = append(e.r.Churn, c.counts())
		if len(c.deleteErrs) > 0 && e.r.Error == "" {
			// Upstream fails the test on a churn deletion it cannot make (tCtx.Errorf).
			e.r.Error = fmt.Sprintf("op %d: %s", c.opIndex, c.deleteErrs[0])
		}
	}
	if e.deleteErr != nil && e.r.Error == "" {
		e.r.Error = e.deleteErr.Error()
	}
	if e.deletions > 0 {
		e.r.PendingDeletions = e.deletions
		e.r.Notes = append(e.r.Notes, fmt.Sprintf("%d rate-limited pod deletions had not happened when the workload ended (upstream cancels them then too)", e.deletions))
	}
	if e.collector != nil {
		e.stopCollecting()
	}
}

// ensureNamespace is upstream's createNamespaceIfNotPresent.
func (e *executor) ensureNamespace(ns string) error {
	if _, ok := e.numPodsScheduledPerNamespace[ns]; ok {
		return nil
	}
	if _, err := e.api.Create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create namespace for Pod: %v: %w", ns, err)
	}
	e.numPodsScheduledPerNamespace[ns] = 0
	return nil
}

// randString is k8s.io/apimachinery/pkg/util/rand.String's alphabet, drawn from the run's seed.
func (e *executor) randString(n int) string {
	const alphanums = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphanums[e.rng.IntN(len(alphanums))]
	}
	return string(b)
}

// uuid is a version 4 UUID from the run's seed.
func (e *executor) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(e.rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// baseNode is upstream's makeBaseNode (util.go).
func baseNode(prefix string) *corev1.Node {
	rl := corev1.ResourceList{
		corev1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
		corev1.ResourceCPU:    resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("32Gi"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix},
		Status: corev1.NodeStatus{Capacity: rl, Allocatable: rl.DeepCopy(), Phase: corev1.NodeRunning,
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
	}
}

// basePod is upstream's makeBasePod with MakePodSpec (runners.go): a pause container asking
// 100m and 500Mi. The image is the one test/utils/image names for Pause at v1.37.
func basePod() *corev1.Pod {
	rl := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("500Mi")}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "pod-"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "pause", Image: "registry.k8s.io/pause:3.10.1",
			Ports:     []corev1.ContainerPort{{ContainerPort: 80}},
			Resources: corev1.ResourceRequirements{Limits: rl, Requests: rl.DeepCopy()},
		}}},
	}
}

// createNodes is upstream's runCreateNodesOp with IntegrationTestNodePreparer.PrepareNodes
// (node_util.go): nodes named from their generateName with five random characters and
// labelled kubernetes.io/hostname, then the strategy applied to the nodes at positions
// nextNodeIndex… of the name-sorted node list, as upstream indexes its List.
func (e *executor) createNodes(i int, o *createNodesOp) error {
	for idx := range o.Count {
		var base *corev1.Node
		if o.NodeTemplatePath != nil {
			obj, err := e.tmpl.object(*o.NodeTemplatePath, env(o.TemplateParams, idx, o.Count), &corev1.Node{})
			if err != nil {
				return fmt.Errorf("failed to get node template: parsing Node: %w", err)
			}
			n, ok := obj.(*corev1.Node)
			if !ok {
				return fmt.Errorf("node template %s describes a %T, not a Node", *o.NodeTemplatePath, obj)
			}
			base = n
		} else {
			base = baseNode(fmt.Sprintf("node-%d-", i))
		}
		var err error
		for range 5 { // createNodeRetries
			node := base.DeepCopy()
			if node.Name == "" {
				node.Name = node.GenerateName + e.randString(5)
			}
			if node.Labels == nil {
				node.Labels = map[string]string{}
			}
			node.Labels["kubernetes.io/hostname"] = node.Name
			if _, err = e.api.Create(node); err == nil {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("creating node: %w", err)
		}
	}
	if err := e.prepareNodes(o); err != nil {
		return err
	}
	e.nextNodeIndex += o.Count
	return nil
}

// prepareNodes applies the op's strategy (runners.go: DoPrepareNode with a merge patch).
func (e *executor) prepareNodes(o *createNodesOp) error {
	var patch func(n *corev1.Node) ([]byte, error)
	rr := 0
	switch {
	case o.NodeAllocatableStrategy != nil:
		patch = func(n *corev1.Node) ([]byte, error) {
			alloc := map[string]string{}
			for name, v := range n.Status.Allocatable {
				alloc[string(name)] = v.String()
			}
			for name, v := range o.NodeAllocatableStrategy.NodeAllocatable {
				if _, err := resource.ParseQuantity(v); err != nil {
					return nil, fmt.Errorf("nodeAllocatableStrategy: %s: %w", name, err)
				}
				alloc[name] = v
			}
			return json.Marshal(map[string]any{"status": map[string]any{"allocatable": alloc}})
		}
	case o.LabelNodePrepareStrategy != nil:
		s := o.LabelNodePrepareStrategy
		patch = func(*corev1.Node) ([]byte, error) {
			v := s.LabelValues[rr]
			rr = (rr + 1) % len(s.LabelValues)
			return json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{s.LabelKey: v}}})
		}
	case o.UniqueNodeLabelStrategy != nil:
		patch = func(*corev1.Node) ([]byte, error) {
			return json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{o.UniqueNodeLabelStrategy.LabelKey: e.uuid()}}})
		}
	default:
		return nil // TrivialNodePrepareStrategy
	}
	objs, err := e.api.List(e.nodeKind)
	if err != nil {
		return err
	}
	for idx := e.nextNodeIndex; idx < e.nextNodeIndex+o.Count && idx < len(objs); idx++ {
		n := objs[idx].(*corev1.Node)
		p, err := patch(n)
		if err != nil {
			return err
		}
		if _, err := e.api.Patch(e.nodeKind, "", n.Name, types.MergePatchType, p, ""); err != nil {
			return fmt.Errorf("error while applying patch %s to Node %v: %w", p, n.Name, err)
		}
	}
	return nil
}

// createNamespaces is upstream's runCreateNamespaceOp with namespacePreparer.
func (e *executor) createNamespaces(o *createNamespacesOp) error {
	base := &corev1.Namespace{}
	if o.NamespaceTemplatePath != nil {
		obj, err := e.tmpl.object(*o.NamespaceTemplatePath, nil, &corev1.Namespace{})
		if err != nil {
			return fmt.Errorf("parsing NamespaceTemplate: %w", err)
		}
		ns, ok := obj.(*corev1.Namespace)
		if !ok {
			return fmt.Errorf("namespace template %s describes a %T, not a Namespace", *o.NamespaceTemplatePath, obj)
		}
		base = ns
	}
	for i := range o.Count {
		n := base.DeepCopy()
		n.Name = fmt.Sprintf("%s-%d", o.Prefix, i)
		if _, err := e.api.Create(n); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		if _, ok := e.numPodsScheduledPerNamespace[n.Name]; !ok {
			e.numPodsScheduledPerNamespace[n.Name] = 0
		}
	}
	return nil
}

// createPods is upstream's runCreatePodsOp: measured ops start their collector before the
// pods are created and stop it once they are all scheduled. Upstream creates a workload's pods
// from 30 goroutines at once, in whatever order they finish; here they are created in index
// order.
func (e *executor) createPods(i int, o *createPodsOp) error {
	ns := fmt.Sprintf("namespace-%d", i)
	if o.Namespace != nil {
		ns = *o.Namespace
	}
	if err := e.ensureNamespace(ns); err != nil {
		return err
	}
	path := o.PodTemplatePath
	if path == nil {
		path = e.tc.DefaultPodTemplatePath
	}
	if o.CollectMetrics {
		if e.collector != nil {
			return fmt.Errorf("metrics collection is overlapping. Probably second collector was started before stopping a previous one")
		}
		e.startCollecting(i, ns, []string{ns}, nil)
	}
	newPod := func(idx, count int) error {
		var pod *corev1.Pod
		if path != nil {
			obj, err := e.tmpl.object(*path, env(o.TemplateParams, idx, count), &corev1.Pod{})
			if err != nil {
				return fmt.Errorf("parsing Pod: %w", err)
			}
			p, ok := obj.(*corev1.Pod)
			if !ok {
				return fmt.Errorf("pod template %s describes a %T, not a Pod", *path, obj)
			}
			pod = p
			if pod.Labels == nil {
				pod.Labels = map[string]string{}
			}
			pod.Labels["signature"] = fmt.Sprintf("signature-label-%d", idx/o.SignatureBatchSize)
		} else {
			pod = basePod()
		}
		pod.Namespace = ns
		if _, err := e.api.Create(pod); err != nil {
			return fmt.Errorf("error creating pod: %w", err)
		}
		return nil
	}
	for idx := range o.Count {
		if err := newPod(idx, o.Count); err != nil {
			return err
		}
	}
	if o.SteadyState {
		if err := e.steadyState(ns, o, newPod); err != nil {
			return err
		}
		if o.CollectMetrics {
			e.stopCollecting()
		}
		return nil
	}
	if o.SkipWaitToCompletion {
		e.numPodsScheduledPerNamespace[ns] += o.Count
	} else if err := e.waitScheduled(ns, nil, o.Count); err != nil {
		return fmt.Errorf("error in waiting for pods to get scheduled: %w", err)
	}
	if o.CollectMetrics {
		e.stopCollecting()
	}
	return nil
}

// steadyState is upstream's createPodsSteadily on virtual time: for the op's duration, each
// pod of the namespace that gets scheduled is deleted at once (grace period 0, background
// propagation) and another is created in its place, so the cluster stays at Count pending or
// scheduled pods. How many go through depends on how fast bindings are paced
// (--scheduler-qps): with scheduling taking no virtual time otherwise, that pace is the
// steady state's throughput in virtual time.
func (e *executor) steadyState(ns string, o *createPodsOp, newPod func(idx, count int) error) error {
	var failed error
	e.pods.onScheduled = func(podNS, name string) {
		if podNS != ns {
			return
		}
		e.s.Clock().AfterDelay(0, func() {
			if failed != nil {
				return
			}
			zero := int64(0)
			bg := metav1.DeletePropagationBackground
			if err := e.api.Delete(e.podKind, ns, name, metav1.DeleteOptions{GracePeriodSeconds: &zero, PropagationPolicy: &bg}); err != nil {
				failed = fmt.Errorf("delete scheduled pod: %w", err)
				return
			}
			if err := newPod(0, 1); err != nil {
				failed = fmt.Errorf("create next batch of pods: %w", err)
			}
		})
	}
	defer func() { e.pods.onScheduled = nil }()
	if _, err := e.s.RunUntil(e.s.Elapsed()+o.Duration.Duration, nil); err != nil {
		return err
	}
	return failed
}

// waitScheduled is upstream's waitUntilPodsScheduledInNamespace on virtual time: the
// simulation runs until want pods of the namespace are scheduled, or the timeout passes.
func (e *executor) waitScheduled(ns string, selector map[string]string, want int) error {
	ok, err := e.s.RunUntil(e.s.Elapsed()+waitTimeout, func() bool {
		n, _, _ := e.pods.count(ns, selector)
		return n >= want
	})
	if err != nil || ok {
		return err
	}
	n, _, _ := e.pods.count(ns, selector)
	pending := e.pods.pending(ns, selector, false)
	msg := fmt.Sprintf("namespace %s: %d of %d pods scheduled after %s of virtual time", ns, n, want, waitTimeout)
	if pending != nil {
		msg = fmt.Sprintf("at least pod %s/%s is not scheduled (%s): %s", ns, pending.name, e.describePending(ns, pending), msg)
	}
	return fmt.Errorf("%s", msg)
}

// waitAttempted is upstream's waitUntilPodsAttemptedInNamespace.
func (e *executor) waitAttempted(ns string, selector map[string]string, want int) error {
	ok, err := e.s.RunUntil(e.s.Elapsed()+waitTimeout, func() bool {
		n, a, _ := e.pods.count(ns, selector)
		return n+a >= want
	})
	if err != nil || ok {
		return err
	}
	n, a, _ := e.pods.count(ns, selector)
	pending := e.pods.pending(ns, selector, true)
	msg := fmt.Sprintf("namespace %s: %d of %d pods attempted after %s of virtual time", ns, n+a, want, waitTimeout)
	if pending != nil {
		msg = fmt.Sprintf("at least pod %s/%s is not attempted (%s): %s", ns, pending.name, e.describePending(ns, pending), msg)
	}
	return fmt.Errorf("%s", msg)
}

// describePending says why a pod is not scheduled: the scheduler's message, or, for a pod
// never attempted, the PreEnqueue plugin that holds it back and what it says.
func (e *executor) describePending(ns string, p *podEntry) string {
	if obj, err := e.api.Get(e.podKind, ns, p.name); err == nil {
		if why := e.s.GatedReason(obj.(*corev1.Pod)); why != "" {
			return "never attempted: " + why
		}
	}
	switch {
	case p.message != "":
		return "the scheduler says: " + p.message
	case p.attempted:
		return "attempted"
	}
	return "never attempted"
}

// barrier is upstream's runBarrierOp.
func (e *executor) barrier(o *barrierOp) error {
	for _, ns := range o.Namespaces {
		if _, ok := e.numPodsScheduledPerNamespace[ns]; !ok {
			return fmt.Errorf("unknown namespace %s", ns)
		}
	}
	namespaces := o.Namespaces
	if len(namespaces) == 0 {
		namespaces = slices.Sorted(maps.Keys(e.numPodsScheduledPerNamespace))
	}
	for _, ns := range namespaces {
		want := e.numPodsScheduledPerNamespace[ns]
		var err error
		if o.StageRequirement == stageAttempted {
			err = e.waitAttempted(ns, o.LabelSelector, want)
		} else {
			err = e.waitScheduled(ns, o.LabelSelector, want)
		}
		if err != nil {
			return fmt.Errorf("error waiting for pods in namespace %q: %w", ns, err)
		}
	}
	if o.StageRequirement != stageAttempted {
		if len(o.Namespaces) == 0 {
			e.numPodsScheduledPerNamespace = map[string]int{}
		}
		for _, ns := range o.Namespaces {
			delete(e.numPodsScheduledPerNamespace, ns)
		}
	}
	return nil
}

// deletePods is upstream's runDeletePodsOp: the pods listed now, deleted with default options
// (their grace period) all at once, or one every 1/DeletePodsPerSecond seconds from one
// interval on, as upstream's ticker does; waited for unless skipWaitToCompletion.
func (e *executor) deletePods(o *deletePodsOp) error {
	names := e.pods.names(o.Namespace, o.LabelSelector)
	del := func(name string) {
		if err := e.api.Delete(e.podKind, o.Namespace, name, metav1.DeleteOptions{}); err != nil && e.deleteErr == nil {
			e.deleteErr = fmt.Errorf("unable to delete pod %v: %w", name, err)
		}
	}
	if o.DeletePodsPerSecond <= 0 {
		for _, n := range names {
			del(n)
		}
		return e.deleteErr
	}
	interval := time.Second / time.Duration(o.DeletePodsPerSecond)
	now := e.s.Clock().Now()
	left := len(names)
	e.deletions += left
	for k, n := range names {
		e.s.Clock().At(now.Add(time.Duration(k+1)*interval), func() {
			del(n)
			left--
			e.deletions--
		})
	}
	if o.SkipWaitToCompletion {
		return nil
	}
	if _, err := e.s.RunUntil(e.s.Elapsed()+time.Duration(len(names)+1)*interval, func() bool { return left == 0 }); err != nil {
		return err
	}
	return e.deleteErr
}

// createAny is upstream's createAny op: Count objects of any kind the simulator serves.
func (e *executor) createAny(o *createAny) error {
	if o.Namespace != "" {
		if err := e.ensureNamespace(o.Namespace); err != nil {
			return err
		}
	}
	count := 1
	if o.Count != nil {
		count = *o.Count
	}
	for idx := range count {
		obj, err := e.tmpl.object(o.TemplatePath, env(o.TemplateParams, idx, count), nil)
		if err != nil {
			return fmt.Errorf("%s: parsing failed: %w", o.TemplatePath, err)
		}
		k, err := sim.KindOf(obj)
		if err != nil {
			return fmt.Errorf("%s: %w", o.TemplatePath, err)
		}
		m, err := meta.Accessor(obj)
		if err != nil {
			return err
		}
		if o.Namespace != "" {
			if !k.Namespaced {
				return fmt.Errorf("namespace %q set for %q, but %s is cluster-scoped", o.Namespace, o.TemplatePath, k.Name())
			}
			m.SetNamespace(o.Namespace)
		} else if k.Namespaced {
			return fmt.Errorf("namespace not set for %q, but %s is namespaced", o.TemplatePath, k.Name())
		}
		if _, err := e.api.Create(obj); err != nil {
			return fmt.Errorf("%s: creating %s: %w", o.TemplatePath, k.Name(), err)
		}
	}
	return nil
}

// startCollecting starts measuring the pods of the namespaces.
func (e *executor) startCollecting(opIndex int, name string, namespaces []string, selector map[string]string) {
	c := startCollector(name, namespaces, selector)
	c.opIndex, c.virtualStart = opIndex, e.s.Elapsed()
	e.collector, e.pods.collector = c, c
}

// stopCollecting ends the measurement and keeps what it measured.
func (e *executor) stopCollecting() {
	c := e.collector
	e.collector, e.pods.collector = nil, nil
	end := time.Now()
	labels := map[string]string{"Name": fmt.Sprintf("%s/%s/%s", e.tc.Name, e.w.Name, c.name)}
	op := MeasuredOp{Index: c.opIndex, Name: labels["Name"], Attempts: attempts(), Histograms: gatherHistograms(labels),
		VirtualSeconds: (e.s.Elapsed() - c.virtualStart).Seconds(), WallSeconds: end.Sub(c.start).Seconds()}
	for _, ns := range c.namespaces {
		n, a, u := e.pods.count(ns, c.selector)
		op.Pods += n + a + u
	}
	op.Scheduled = len(c.scheduled)
	if item, ok := throughput(c.start, end, c.scheduled, labels); ok {
		op.Throughput = &item
	}
	if op.WallSeconds > 0 {
		op.OverallThroughput = float64(op.Scheduled) / op.WallSeconds
	}
	e.r.Ops = append(e.r.Ops, op)
}
