package nodeautoscaler

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/sim"
)

// streamAutoscaler is the RNG purpose of the autoscaler's draws (provisioning delays, the
// random expander), apart from the simulator's own streams (sim/reactor.go counts up from 1).
const streamAutoscaler uint64 = 0x61757473 // "auts"

// Runtime is what the autoscaler behaviours share. Every method is called from a clock event
// or before the run, never from a Watcher, except where its comment says otherwise.
type Runtime struct {
	s      *sim.Simulator
	api    *sim.API
	clock  *clock.Virtual
	opts   autoscaling.Options
	pools  []*Pool
	rec    *analysis.AutoscalerRecord
	rng    *rand.Rand
	logger klog.Logger

	nodeKind, podKind, sliceKind *sim.Kind
	// members are the pools' nodes not yet deleted, by node name.
	members map[string]*Member
	// noScaleUp indexes rec.NoScaleUp by namespace/name.
	noScaleUp map[string]int
	// unremovable indexes rec.Unremovable by node.
	unremovable map[string]int

	lister     *swapLister
	dra        *draView
	frameworks map[string]*sim.FilterFrameworkResult
	// podInfos are the scheduler's PodInfos of the stored pods of the last Snapshot.
	podInfos map[*corev1.Pod]*framework.PodInfo

	unschedulableHooks []func()
	unschedulableArmed bool
	podHooks           []func(pod *corev1.Pod, node string)
	nodeHooks          []func(m *Member)
}

// Pool is a NodePool and the nodes it has.
type Pool struct {
	*autoscaling.NodePool
	// next is the number of the next node of each shape (autoscaling.NodeName).
	next map[string]int
	// members are its nodes not yet deleted, in launch order.
	members []*Member
}

// Member is one node of a pool, from its launch to its deletion.
type Member struct {
	Name, Shape string
	Pool        *Pool
	// Record is the node's entry in the autoscaler's record, kept up to date.
	Record *analysis.AutoscaledNodeRecord
	launch *clock.Event
}

// Registered is whether its Node object exists (or existed).
func (m *Member) Registered() bool { return m.Record.RegisteredAt != nil }

// Ready is whether its Node has been Ready.
func (m *Member) Ready() bool { return m.Record.ReadyAt != nil }

// Removing is whether the autoscaler chose to remove it.
func (m *Member) Removing() bool { return m.Record.DrainStartedAt != nil }

// Members are the pool's nodes not yet deleted, in launch order.
func (p *Pool) Members() []*Member { return p.members }

// Size is how many nodes the pool has, launched and not deleted: the target size of
// cluster-autoscaler's node group.
func (p *Pool) Size() int { return len(p.members) }

// New builds the runtime of a run's autoscaler: it registers the record with the simulator's
// recorder, adopts the input nodes that carry a pool's label (autoscaling.PoolLabel) and
// brings each pool up to its min at t=0 (a pool's nodes exist when the run starts, as a node
// group created at its min size would have them). Call it before the run.
func New(s *sim.Simulator, pools []*autoscaling.NodePool, opts autoscaling.Options) (*Runtime, error) {
	rt := &Runtime{s: s, api: s.API(), clock: s.Clock(), opts: opts, rng: s.Rand(streamAutoscaler),
		logger: klog.Background(), members: map[string]*Member{}, noScaleUp: map[string]int{},
		unremovable: map[string]int{}, lister: newSwapLister(), dra: &draView{},
		frameworks: map[string]*sim.FilterFrameworkResult{}}
	var err error
	if rt.nodeKind, err = sim.KindNamed("Node"); err != nil {
		return nil, err
	}
	if rt.podKind, err = sim.KindNamed("Pod"); err != nil {
		return nil, err
	}
	if rt.sliceKind, err = sim.KindNamed("ResourceSlice"); err != nil {
		return nil, err
	}
	rt.rec = &analysis.AutoscalerRecord{Autoscaler: opts.Autoscaler}
	for _, np := range pools {
		p := &Pool{NodePool: np, next: map[string]int{}}
		rt.pools = append(rt.pools, p)
		pr := analysis.PoolRecord{Name: np.Name, Min: np.Spec.Min, Max: np.Spec.Max}
		for _, sh := range np.Spec.Shapes {
			cpu, mem := sh.Allocatable[corev1.ResourceCPU], sh.Allocatable[corev1.ResourceMemory]
			pr.Shapes = append(pr.Shapes, analysis.ShapeRecord{Name: sh.Name, PricePerHour: sh.PricePerHour,
				CPU: float64(cpu.MilliValue()) / 1000, Memory: float64(mem.Value())})
		}
		rt.rec.Pools = append(rt.rec.Pools, pr)
	}
	s.Recorder().Autoscaler(rt.rec)
	if err := rt.adopt(); err != nil {
		return nil, err
	}
	for _, p := range rt.pools {
		for n := p.Size(); n < int(p.Spec.Min); n++ {
			if _, err := rt.register(rt.newMember(p, p.Spec.Shapes[0].Name, true)); err != nil {
				return nil, err
			}
		}
	}
	s.API().Watch(rt.observe)
	return rt, nil
}

// adopt makes the existing nodes with a pool's label members of that pool, billed from t=0.
func (rt *Runtime) adopt() error {
	nodes, err := rt.Nodes()
	if err != nil {
		return err
	}
	for _, n := range nodes {
		name, ok := n.Labels[autoscaling.PoolLabel]
		if !ok {
			continue
		}
		p := rt.Pool(name)
		if p == nil {
			return fmt.Errorf("Node %s: label %s=%s names no NodePool", n.Name, autoscaling.PoolLabel, name)
		}
		shape := n.Labels[corev1.LabelInstanceTypeStable]
		if p.Shape(shape) == nil {
			return fmt.Errorf("Node %s of NodePool %s: label %s=%q names none of the pool's shapes", n.Name, name, corev1.LabelInstanceTypeStable, shape)
		}
		m := &Member{Name: n.Name, Shape: shape, Pool: p}
		m.Record = rt.nodeRecord(m, true)
		zero := time.Duration(0)
		m.Record.RegisteredAt = &zero
		if ready(n) {
			m.Record.ReadyAt = &zero
		}
		rt.addMember(m)
	}
	return nil
}

// Pool is the named pool, or nil.
func (rt *Runtime) Pool(name string) *Pool {
	for _, p := range rt.pools {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Pools are the pools, in input order.
func (rt *Runtime) Pools() []*Pool { return rt.pools }

// Member is the pool node of that name, nil if the node is not one (or is deleted).
func (rt *Runtime) Member(node string) *Member { return rt.members[node] }

// Options are the run's autoscaler options.
func (rt *Runtime) Options() autoscaling.Options { return rt.opts }

// Record is the record the report is built from; behaviours set NotModelled on it.
func (rt *Runtime) Record() *analysis.AutoscalerRecord { return rt.rec }

// Sim is the simulation.
func (rt *Runtime) Sim() *sim.Simulator { return rt.s }

// Clock is the virtual clock.
func (rt *Runtime) Clock() *clock.Virtual { return rt.clock }

// Now is the virtual time.
func (rt *Runtime) Now() time.Time { return rt.clock.Now() }

// Elapsed is the virtual time since the start, the unit of the record.
func (rt *Runtime) Elapsed() time.Duration { return rt.s.Elapsed() }

// Rand is the autoscaler's RNG, drawn from the run's seed.
func (rt *Runtime) Rand() *rand.Rand { return rt.rng }

// Nodes are the cluster's Nodes, by name. They are the stored objects, shared: copy one
// before changing it.
func (rt *Runtime) Nodes() ([]*corev1.Node, error) {
	objs, err := rt.api.ListShared(rt.nodeKind)
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Node, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*corev1.Node))
	}
	slices.SortFunc(out, func(a, b *corev1.Node) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// Pods are the cluster's pods that are not terminal, by namespace and name. They are the
// stored objects, shared: copy one before changing it.
func (rt *Runtime) Pods() ([]*corev1.Pod, error) {
	objs, err := rt.api.ListShared(rt.podKind)
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*corev1.Pod))
	}
	slices.SortFunc(out, func(a, b *corev1.Pod) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// UnschedulablePods are the pods the scheduler tried and found no node for: no nodeName, not
// terminal nor being deleted, PodScheduled False with reason Unschedulable (cluster-autoscaler's
// lister, utils/kubernetes/listers.go; Karpenter's pod.FailedToSchedule). Oldest first, then by
// namespace and name.
func (rt *Runtime) UnschedulablePods() ([]*corev1.Pod, error) {
	pods, err := rt.Pods()
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for _, p := range pods {
		if unschedulable(p) {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b *corev1.Pod) int {
		return a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time)
	})
	return out, nil
}

func unschedulable(p *corev1.Pod) bool {
	if p.Spec.NodeName != "" || podutil.IsPodTerminal(p) || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			return c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable
		}
	}
	return false
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Template is a node as the pool's shape would register it, Ready and untainted by the
// kubelet's startup, named name: what a scale-up simulates on (cluster-autoscaler's
// TemplateNodeInfo, Karpenter's instance type).
func (rt *Runtime) Template(p *Pool, shape, name string) (*corev1.Node, error) {
	n, err := p.Node(shape, 0)
	if err != nil {
		return nil, err
	}
	n.Name = name
	n.Labels[corev1.LabelHostname] = name
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	return n, nil
}

// errGone is a member already deleted.
var errGone = errors.New("node already deleted")

func (rt *Runtime) elapsedPtr() *time.Duration {
	e := rt.Elapsed()
	return &e
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }
