package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/kubernetes/pkg/api/legacyscheme"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/stages"
)

// Transition is one executed stage: an entry of the transition log.
type Transition = analysis.TransitionRecord

type objectRef struct {
	kind string
	uid  types.UID
}

// performing names a transition in progress.
type performing struct {
	ref   objectRef
	stage *stages.Stage
}

type pendingTransition struct {
	event *clock.Event
	stage *stages.Stage
	delay time.Duration
	// object is the JSON form the stage was matched on, kept only for a transition due at the
	// instant it was planned. Any write to the object replaces the pending transition, so the
	// stored object is still the one matched when the transition runs: a later transition
	// derives the JSON form from it again then (heldObject), instead of holding a form per
	// object for as long as it waits (a node's JSON form is several kilobytes, and every node
	// has a heartbeat pending).
	object map[string]any
}

// heldObject returns the JSON form the transition was planned on: kept, or derived again from
// the stored object, which no write has changed since (any write replans).
func (r *stageRunner) heldObject(k *Kind, ns, name string, p *pendingTransition) (map[string]any, error) {
	if p.object != nil {
		return p.object, nil
	}
	obj, err := r.api.tracker.shared(k.GVR, ns, name)
	if err != nil {
		return nil, err
	}
	return stages.Object(obj)
}

// stageRunner is the simulator's side of the stage engine: after every write of an object a
// stage applies to, it matches the stages, picks one and schedules its steps after the
// stage's delay, then performs the steps through the API layer. As in KWOK there is one
// pending transition per object, and a newer change replaces it. Pods are managed once they
// are bound to a node, as KWOK manages the pods of its nodes.
type stageRunner struct {
	api     *API
	clock   *clock.Virtual
	rec     *Recorder
	stages  []*stages.Stage
	kinds   map[string]bool
	rng     *rand.Rand
	pending map[objectRef]*pendingTransition
	// selfSustaining caches, per stage, whether the stage matches its own output: such a
	// transition (a heartbeat) recurs forever and must not keep a run alive. It is decided on
	// the first object the stage is planned for with a delay; stages that are periodic for some
	// objects and not others would only change when a run without --until ends.
	selfSustaining map[*stages.Stage]bool
	ipam           *stages.IPAM
	nodeIPs        *stages.IPPool
	anonymousIPs   int
	nodes          map[string]nodeNetwork
	log            []Transition
	// renewing holds the objects whose periodic transitions are elided, and tallies counts
	// those transitions per kind and stage (see renewal.go). seed seeds their delays;
	// keepRenewals turns the elision off.
	renewing     map[objectRef]*renewals
	tallies      map[tallyKey]map[time.Duration]int64
	seed         uint64
	keepRenewals bool
	// performing is the transition whose steps are being performed: a periodic stage is
	// considered for elision only when its own transition wrote the object.
	performing performing
	err        error
	// instant and atInstant count each object's transitions at the current virtual instant:
	// a stage set that keeps matching its own output with no delay would otherwise spin
	// until the simulator's much larger global guard, at a millisecond a transition.
	instant   time.Time
	atInstant map[objectRef]int
}

// maxTransitionsPerInstant bounds one object's stage transitions at one virtual instant. KWOK's
// longest zero-delay chain (pod-create → init containers → ready with delays cleared) has a
// handful of steps; a hundred means a loop.
const maxTransitionsPerInstant = 100

const (
	// defaultPodCIDR is KWOK's default --cidr, used for nodes without spec.podCIDR.
	defaultPodCIDR = "10.0.0.0/24"
	// nodeCIDR is where the simulator draws node addresses from (see stageEnv).
	nodeCIDR = "192.168.0.0/16"
	// kubeletPort is the port advertised as the node's daemon endpoint.
	kubeletPort = 10250
)

func newStageRunner(api *API, c *clock.Virtual, rec *Recorder, set []*stages.Stage, rng *rand.Rand) (*stageRunner, error) {
	nodeIPs, err := stages.NewIPPool(nodeCIDR)
	if err != nil {
		return nil, err
	}
	r := &stageRunner{
		api: api, clock: c, rec: rec, stages: set, rng: rng,
		kinds:          map[string]bool{},
		pending:        map[objectRef]*pendingTransition{},
		selfSustaining: map[*stages.Stage]bool{},
		nodes:          map[string]nodeNetwork{},
		renewing:       map[objectRef]*renewals{},
		tallies:        map[tallyKey]map[time.Duration]int64{},
		ipam:           stages.NewIPAM(defaultPodCIDR),
		nodeIPs:        nodeIPs,
	}
	for _, s := range set {
		r.kinds[s.Kind] = true
	}
	return r, nil
}

// observe is the API watcher: it (re)plans the object's next transition.
func (r *stageRunner) observe(ev WatchEvent) {
	kind := ev.Kind.Name()
	if !r.kinds[kind] || r.err != nil {
		return
	}
	m, _ := meta.Accessor(ev.Object)
	ref := objectRef{kind, m.GetUID()}
	r.endChain(ref)
	if p := r.pending[ref]; p != nil {
		p.event.Cancel()
		delete(r.pending, ref)
	}
	if ev.Type == watch.Deleted {
		if kind == "Pod" {
			r.ipam.Release(string(m.GetUID()))
		}
		return
	}
	if pod, ok := ev.Object.(*corev1.Pod); ok {
		if !r.managesPodOn(pod.Spec.NodeName) {
			return
		}
		if ev.Restored {
			r.useRestoredIPs(pod)
		}
	}
	if r.suspended(kind, ev.Object) {
		return
	}
	if err := r.plan(kind, ref, ev.Object); err != nil {
		r.fail(fmt.Errorf("%s %s: %w", kind, key(m.GetNamespace(), m.GetName()), err))
	}
}

// useRestoredIPs holds the addresses a restored pod already reports, as KWOK does for the
// pods that exist when it starts, so that no new pod is given one of them. An address outside
// the node's pod CIDRs is not the IPAM's to hold and is ignored.
func (r *stageRunner) useRestoredIPs(pod *corev1.Pod) {
	if pod.Spec.HostNetwork || len(pod.Status.PodIPs) == 0 {
		return
	}
	ips := make([]string, len(pod.Status.PodIPs))
	for i, ip := range pod.Status.PodIPs {
		ips[i] = ip.IP
	}
	_ = r.ipam.Use(string(pod.UID), r.nodeInfo(pod.Spec.NodeName).podCIDRs, ips)
}

// managesPodOn reports whether a pod on that node is managed: KWOK manages the pods of the
// nodes it fakes, so an unbound pod, or one bound to a node that does not exist, is left alone.
func (r *stageRunner) managesPodOn(node string) bool {
	if node == "" {
		return false
	}
	_, ok, _ := r.api.informers["Node"].indexer.GetByKey(node)
	return ok
}

// suspended tells whether the object's stages are held by its kubelet's state (see
// Simulator.SetKubelet): a node's while its kubelet is not running, a pod's while the kubelet
// of its node is stopped.
func (r *stageRunner) suspended(kind string, obj runtime.Object) bool {
	switch o := obj.(type) {
	case *corev1.Node:
		st, _ := r.api.Kubelet(o.Name)
		return st != KubeletRunning
	case *corev1.Pod:
		st, _ := r.api.Kubelet(o.Spec.NodeName)
		return st == KubeletStopped
	}
	return false
}

// kubeletChanged suspends or resumes the stages of a node and its pods when its kubelet's
// state changes from prev to st: suspending cancels the pending transition (and counts the
// elided renewals up to now); resuming plans afresh from the stored state, as a write would.
func (r *stageRunner) kubeletChanged(node string, prev, st KubeletState) {
	nodeKind, podKind := kinds["Node"], kinds["Pod"]
	if obj, err := r.api.Get(nodeKind, "", node); err == nil {
		r.replan(nodeKind, obj, st == KubeletRunning)
	}
	if (prev == KubeletStopped) == (st == KubeletStopped) || !r.kinds["Pod"] {
		return // the pods' stages run unless the kubelet is stopped
	}
	pods, err := r.api.List(podKind)
	if err != nil {
		r.fail(err)
		return
	}
	for _, obj := range pods { // by namespace and name: the order plans draw from the RNG
		if obj.(*corev1.Pod).Spec.NodeName == node {
			r.replan(podKind, obj, st != KubeletStopped)
		}
	}
}

// replan cancels an object's pending transition and, when run is set, plans its next one.
func (r *stageRunner) replan(k *Kind, obj runtime.Object, run bool) {
	kind := k.Name()
	if !r.kinds[kind] {
		return
	}
	m, _ := meta.Accessor(obj)
	ref := objectRef{kind, m.GetUID()}
	r.endChain(ref)
	if p := r.pending[ref]; p != nil {
		p.event.Cancel()
		delete(r.pending, ref)
	}
	if !run || r.err != nil {
		return
	}
	if err := r.plan(kind, ref, obj); err != nil {
		r.fail(fmt.Errorf("%s %s: %w", kind, key(m.GetNamespace(), m.GetName()), err))
	}
}

// fail stops the runner; the error surfaces from Simulator.Run.
func (r *stageRunner) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *stageRunner) plan(kind string, ref objectRef, obj runtime.Object) error {
	o, err := stages.Object(obj)
	if err != nil {
		return err
	}
	matched, err := stages.Match(r.stages, kind, o)
	if err != nil || len(matched) == 0 {
		return err
	}
	stage, err := stages.Pick(matched, o, r.rng)
	if err != nil || stage == nil {
		return err
	}
	now := r.clock.Now()
	delay, note, err := stage.DelayNoted(o, now, r.rng)
	if err != nil {
		return err
	}
	m, _ := meta.Accessor(obj)
	ns, name := m.GetNamespace(), m.GetName()
	if note != "" {
		// KWOK ignores a durationFrom that is not a duration without a word; the report says so.
		r.rec.Warn(kind, ns, name, "StageDelayIgnored", fmt.Sprintf("stage %s: %s", stage.Name, note))
	}
	p := &pendingTransition{stage: stage, delay: delay}
	if delay == 0 {
		p.object = o
	}
	run := func() { r.execute(kind, ref, ns, name, p) }
	var event *clock.Event
	if delay > 0 && r.recurs(stage, o, obj) {
		if len(matched) == 1 && r.performing == (performing{ref, stage}) {
			if c := r.elidable(kind, ref, stage, o, obj, delay); c != nil {
				r.renewing[ref] = c
				return nil
			}
		}
		event = r.clock.Daemon(now.Add(delay), run)
	} else {
		event = r.clock.At(now.Add(delay), run)
	}
	p.event = event
	r.pending[ref] = p
	return nil
}

// recurs reports whether the stage would match the object again after its own steps, i.e. it
// is periodic background work like a heartbeat. It renders the steps now and applies their
// patches to a copy; the answer is cached per stage.
func (r *stageRunner) recurs(stage *stages.Stage, o map[string]any, obj runtime.Object) bool {
	if v, ok := r.selfSustaining[stage]; ok {
		return v
	}
	v := r.matchesOwnOutput(stage, o, obj)
	r.selfSustaining[stage] = v
	return v
}

func (r *stageRunner) matchesOwnOutput(stage *stages.Stage, o map[string]any, obj runtime.Object) bool {
	_, after, ok := r.dryRun(stage, o, obj, false)
	if !ok {
		return false
	}
	matched, err := stages.Match([]*stages.Stage{stage}, stage.Kind, after)
	return err == nil && len(matched) == 1
}

// execute performs a stage's steps on the object's current state.
func (r *stageRunner) execute(kind string, ref objectRef, ns, name string, p *pendingTransition) {
	if r.pending[ref] == p {
		delete(r.pending, ref)
	}
	k := kinds[kind]
	stage, delay := p.stage, p.delay
	if now := r.clock.Now(); !now.Equal(r.instant) {
		r.instant, r.atInstant = now, map[objectRef]int{}
	}
	if r.atInstant[ref]++; r.atInstant[ref] > maxTransitionsPerInstant {
		r.fail(&Failure{Msg: fmt.Sprintf("livelock: stage %q ran on %s %s more than %d times at virtual time t=%s without time moving: the stage set keeps matching its own output with no delay (source %s)",
			stage.Name, kind, key(ns, name), maxTransitionsPerInstant, r.clock.Now().Sub(Epoch), stage.Source())})
		return
	}
	object, err := r.heldObject(k, ns, name, p)
	if apierrors.IsNotFound(err) {
		return // gone: its deletion cancelled the transition already; nothing to act on
	}
	if err != nil {
		r.fail(fmt.Errorf("%s %s: %w", kind, key(ns, name), err))
		return
	}
	steps, err := stage.Steps(object, r.env(kind, object))
	var refusal *stages.Refusal
	if errors.As(err, &refusal) {
		// The component the stage stands for would not act (a provisioner that cannot place
		// the volume): no step is performed, and the next change of the object plans again.
		if refusal.Reason != "" {
			r.rec.Warn(kind, ns, name, refusal.Reason, refusal.Message)
		}
		return
	}
	if err != nil {
		r.fail(fmt.Errorf("%s %s: %w", kind, key(ns, name), err))
		return
	}
	r.log = append(r.log, Transition{At: r.clock.Now().Sub(Epoch), Kind: kind, Namespace: ns, Name: name, Stage: stage.Name, Delay: delay})
	r.performing = performing{ref, stage}
	defer func() { r.performing = performing{} }()
	bare := kind == "Node" && nodeReportsNoResources(object)
	if bare {
		defer r.noteAssumedNodeResources(name, stage)
	}
	for _, st := range steps {
		if st.Event != nil {
			r.rec.record(Event{At: r.clock.Now().Sub(Epoch), Kind: kind, Namespace: ns, Name: name,
				Type: st.Event.Type, Reason: st.Event.Reason, Message: st.Event.Message})
		}
		if err := r.perform(k, ns, name, st); err != nil {
			// The object may have changed or gone; KWOK logs and moves on, and the next
			// watch event plans again.
			r.rec.Warn(kind, ns, name, "StageFailed", fmt.Sprintf("stage %s: %v", stage.Name, err))
			return
		}
	}
}

// nodeReportsNoResources reports whether a Node, in its JSON form, has neither
// status.allocatable nor status.capacity: nothing a kubelet would have reported.
func nodeReportsNoResources(o map[string]any) bool {
	status, _ := o["status"].(map[string]any)
	allocatable, _ := status["allocatable"].(map[string]any)
	capacity, _ := status["capacity"].(map[string]any)
	return len(allocatable) == 0 && len(capacity) == 0
}

// noteAssumedNodeResources warns when a stage gave a Node that reported no resources an
// allocatable: KWOK's node-initialize fills in cpu 1k, memory 1Ti and pods 1M, on which any
// workload fits, where a real node's kubelet reports its machine's capacity.
func (r *stageRunner) noteAssumedNodeResources(name string, stage *stages.Stage) {
	obj, err := r.api.Get(kinds["Node"], "", name)
	if err != nil {
		return
	}
	node, ok := obj.(*corev1.Node)
	if !ok || len(node.Status.Allocatable) == 0 {
		return
	}
	names := make([]string, 0, len(node.Status.Allocatable))
	for n := range node.Status.Allocatable {
		names = append(names, string(n))
	}
	sort.Strings(names)
	values := make([]string, len(names))
	for i, n := range names {
		q := node.Status.Allocatable[corev1.ResourceName(n)]
		values[i] = n + " " + q.String()
	}
	r.rec.Warn("Node", "", name, "NodeResourcesAssumed", fmt.Sprintf(
		"the Node has no status.allocatable or status.capacity; stage %s assumed allocatable %s (KWOK's defaults), "+
			"so the scheduler sees that much room on it. A real node's kubelet reports its machine's capacity: "+
			"write status.capacity and status.allocatable in the Node manifest",
		stage.Name, strings.Join(values, ", ")))
}

func (r *stageRunner) perform(k *Kind, ns, name string, st stages.Step) error {
	if st.Finalizers != nil {
		if _, err := r.api.Patch(k, ns, name, types.JSONPatchType, st.Finalizers.Data, ""); err != nil {
			return err
		}
	}
	if st.Delete {
		zero := int64(0)
		return r.api.Delete(k, ns, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	}
	if st.Patch != nil {
		if _, err := r.api.Patch(k, ns, name, stages.PatchType(st.Patch.Type), st.Patch.Data, st.Patch.Subresource); err != nil {
			return err
		}
	}
	if st.Apply != nil {
		return r.apply(ns, st.Apply)
	}
	return nil
}

// apply creates the rendered object, or patches it when it exists, as KWOK's apply step does:
// a namespaced object without a namespace lands in the namespace of the object the stage ran
// on, and a subresource apply patches the existing object directly.
func (r *stageRunner) apply(sourceNamespace string, a *stages.Apply) error {
	var u unstructured.Unstructured
	if err := u.UnmarshalJSON(a.Data); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	k, err := KindNamed(u.GetKind())
	if err != nil || u.GroupVersionKind() != k.GVK {
		return fmt.Errorf("apply: %s %s is not a kind the simulator stores (supported: %v)", u.GetAPIVersion(), u.GetKind(), SupportedKinds())
	}
	if k.Namespaced && u.GetNamespace() == "" {
		u.SetNamespace(sourceNamespace)
	}
	data, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	pt := stages.PatchType(a.Type)
	if a.Subresource != "" {
		_, err := r.api.Patch(k, u.GetNamespace(), u.GetName(), pt, data, a.Subresource)
		return err
	}
	obj, err := legacyscheme.Scheme.New(k.GVK)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, obj); err != nil {
		return fmt.Errorf("apply: %s %s: %w", u.GetKind(), key(u.GetNamespace(), u.GetName()), err)
	}
	if _, err = r.api.Create(obj); !apierrors.IsAlreadyExists(err) || u.GetName() == "" {
		return err
	}
	_, err = r.api.Patch(k, u.GetNamespace(), u.GetName(), pt, data, "")
	return err
}
