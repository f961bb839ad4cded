package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-helpers/storage/ephemeral"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/volumebinding"

	"github.com/kwoksim/kwoksim/analysis"
)

// A binding cycle whose volumes the scheduler has asked to be bound or provisioned waits, in
// VolumeBinding's PreBind, for the PV controller and the provisioner (upstream: BindPodVolumes
// polls checkBindings every second for up to bindTimeoutSeconds). Meanwhile the scheduler
// schedules other pods, and the waiting pod stays assumed on its node.
//
// Here the wait is on virtual time. The binding goroutine PARKS: it tells the driver, whose
// drain goes on with the next pods as if the cycle had ended, and blocks until the simulation
// wakes it. Wakes happen only on the simulation goroutine, one parked cycle at a time in park
// order, the simulation waiting for each to park again or end (bound: PostBind; failed: the
// failure handler) before the next, so no two goroutines ever run at once:
//   - at the cycle's next poll after a change to what checkBindings reads (a claim or PV of a
//     parked cycle, its node or CSINode, its pod). Upstream's PollUntilContextTimeout checks
//     on a one-second ticker started by the writes, the first check a second after them
//     (immediate is false): at since+1s, since+2s, … So a claim provisioned and bound at
//     the instant it is asked for binds its pod one second later, as in a real cluster, and
//     one bound 4.5 s in binds it at 5 s. Polls with nothing changed since the last one are
//     not run: they would find what the last one found;
//   - after a preemption, which may have cancelled a parked victim's binding (its context);
//   - at its deadline, park time + bindTimeoutSeconds: "binding volumes: context deadline
//     exceeded", and the pod goes to the error backoff, as upstream;
//   - when the simulator is closed, so that no goroutine outlives it.
//
// Deliberate deviations:
//   - A change at the very instant of a poll tick is seen by that poll (upstream: a race
//     between the ticker and the informer).
//   - The deadline is background work, like the retry of unschedulable pods: a run without
//     --until ends when nothing but parked waits is left (their pods are reported pending, see
//     Simulator.ParkedPods), rather than run ten minutes to time them out, retry them, park
//     them again and so on forever, as a real scheduler would. With --until, the waits time
//     out and are retried on virtual time as upstream.
//   - The binding that ends a wait takes its client token at that instant, without waiting
//     for the bucket (the driver paces cycles, not late bindings).
//   - A preempted victim in PreBind is cancelled (the real executor cancels its context) and
//     its wait ends at a clock event after the preemptor's cycle, rather than within a second
//     of wall time.

// wakeReason is why the simulation woke a parked cycle.
type wakeReason int

const (
	wakeCheck   wakeReason = iota // something it depends on changed: check the bindings
	wakeTimeout                   // the virtual deadline passed
	wakeClose                     // the simulator is closed: give up
)

// staticBinding is a claim the scheduler bound to a matching PV (the PV's claimRef it wrote).
type staticBinding struct{ claim, pv string }

// parkedCycle is one binding cycle waiting in PreBind.
type parkedCycle struct {
	// pod is the assumed pod: its spec.nodeName is the node chosen.
	pod *corev1.Pod
	// ctx is the binding cycle's context: preemption cancels it.
	ctx             context.Context
	since, deadline time.Time
	// static are the claims the scheduler bound to PVs, provisioned those it asked a
	// provisioner for (namespace/name), in the order the checks go through them.
	static      []staticBinding
	provisioned []string
	binder      *parkingBinder
	wake        chan wakeReason
	timer       interface{ Cancel() bool }
	parked      bool
	// dirty is whether something its check reads changed since it last checked.
	dirty bool
	// poll is the next poll armed, nil when none is.
	poll interface{ Cancel() bool }
}

// readsClaim and readsPV report whether the cycle's check reads the claim (namespace/name)
// or the PV.
func (p *parkedCycle) readsClaim(key string) bool {
	for _, s := range p.static {
		if s.claim == key {
			return true
		}
	}
	return slices.Contains(p.provisioned, key)
}

func (p *parkedCycle) readsPV(name string) bool {
	for _, s := range p.static {
		if s.pv == name {
			return true
		}
	}
	return false
}

// parkingBinder is the real volume binder, whose BindPodVolumes is built with a timeout of 0,
// with the wait replaced by a park on virtual time.
type parkingBinder struct {
	volumebinding.SchedulerVolumeBinder
	d *driver
	// timeout is the profile's bindTimeoutSeconds: the virtual wait.
	timeout time.Duration
	// The scheduler's own informers, which checkBindings reads upstream.
	pods     corelisters.PodLister
	nodes    corelisters.NodeLister
	csiNodes storagelisters.CSINodeLister
	pvs      cache.Indexer
	pvcs     cache.Indexer
}

// pvByClaimUID indexes PVs by the UID of their claimRef: after the real BindPodVolumes, a
// statically bound claim's PV is the one whose claimRef it wrote (the plugin's BindingInfo
// does not export the PV).
const pvByClaimUID = "kwoksim/claimUID"

func newParkingBinder(d *driver, real volumebinding.SchedulerVolumeBinder, f informers.SharedInformerFactory, timeout time.Duration) (*parkingBinder, error) {
	pvInformer := f.Core().V1().PersistentVolumes().Informer()
	if err := pvInformer.AddIndexers(cache.Indexers{pvByClaimUID: func(obj interface{}) ([]string, error) {
		if pv, ok := obj.(*corev1.PersistentVolume); ok && pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.UID != "" {
			return []string{string(pv.Spec.ClaimRef.UID)}, nil
		}
		return nil, nil
	}}); err != nil && pvInformer.GetIndexer().GetIndexers()[pvByClaimUID] == nil {
		// Several profiles share the informer: the first one added the index.
		return nil, err
	}
	return &parkingBinder{
		SchedulerVolumeBinder: real,
		d:                     d,
		timeout:               timeout,
		pods:                  f.Core().V1().Pods().Lister(),
		nodes:                 f.Core().V1().Nodes().Lister(),
		csiNodes:              f.Storage().V1().CSINodes().Lister(),
		pvs:                   pvInformer.GetIndexer(),
		pvcs:                  f.Core().V1().PersistentVolumeClaims().Informer().GetIndexer(),
	}, nil
}

// BindPodVolumes runs the real one, whose API writes ask for the binding or provisioning and
// whose wait of 0 ends at once with context.DeadlineExceeded; that one error is replaced by
// the wait on virtual time. Any other outcome (done, a write that failed) is the real one.
func (b *parkingBinder) BindPodVolumes(ctx context.Context, pod *corev1.Pod, podVolumes *volumebinding.PodVolumes) error {
	err := b.SchedulerVolumeBinder.BindPodVolumes(ctx, pod, podVolumes)
	if b.timeout <= 0 || !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		// A bindTimeoutSeconds of 0 times out at once upstream too.
		return err
	}
	p := &parkedCycle{pod: pod, ctx: ctx, binder: b, wake: make(chan wakeReason)}
	provisioned := map[string]bool{}
	for _, dp := range podVolumes.DynamicProvisions {
		k := dp.PVC.Namespace + "/" + dp.PVC.Name
		p.provisioned = append(p.provisioned, k)
		provisioned[k] = true
	}
	p.static = b.staticBindings(pod, provisioned)
	return b.d.park(p)
}

// staticBindings finds the claims of the pod that the real BindPodVolumes bound to a PV: not
// provisioned, not yet fully bound, and named by a PV's claimRef. In the pod's volume order
// (upstream goes by claim size; the order only decides which of several errors is reported).
func (b *parkingBinder) staticBindings(pod *corev1.Pod, provisioned map[string]bool) []staticBinding {
	var out []staticBinding
	for i := range pod.Spec.Volumes {
		vol := &pod.Spec.Volumes[i]
		var name string
		switch {
		case vol.PersistentVolumeClaim != nil:
			name = vol.PersistentVolumeClaim.ClaimName
		case vol.Ephemeral != nil:
			name = ephemeral.VolumeClaimName(pod, vol)
		default:
			continue
		}
		k := pod.Namespace + "/" + name
		if provisioned[k] {
			continue
		}
		obj, ok, _ := b.pvcs.GetByKey(k)
		if !ok {
			continue
		}
		pvc := obj.(*corev1.PersistentVolumeClaim)
		if isPVCFullyBound(pvc) {
			continue
		}
		pvs, _ := b.pvs.ByIndex(pvByClaimUID, string(pvc.UID))
		names := make([]string, 0, len(pvs))
		for _, o := range pvs {
			pv := o.(*corev1.PersistentVolume)
			if pv.Spec.ClaimRef.Namespace == pvc.Namespace && pv.Spec.ClaimRef.Name == pvc.Name {
				names = append(names, pv.Name)
			}
		}
		if len(names) == 0 {
			continue
		}
		sort.Strings(names) // the index's order is a map's
		out = append(out, staticBinding{claim: k, pv: names[0]})
	}
	return out
}

// park blocks the binding goroutine until the simulation wakes it with an outcome: nil when
// every volume is bound (the framework then binds the pod), an error otherwise.
func (d *driver) park(p *parkedCycle) error {
	p.since = d.now()
	p.deadline = p.since.Add(p.binder.timeout)
	p.parked = true
	d.parked = append(d.parked, p)
	d.parkedPods[p.pod.UID] = p
	d.parkRefs(p, 1)
	if d.daemonAt != nil {
		p.timer = d.daemonAt(p.deadline, func() { d.resumeParked(p, wakeTimeout) })
	}
	d.endCycle() // the drain goes on with the next pods
	for {
		var err error
		switch <-p.wake {
		case wakeTimeout:
			err = fmt.Errorf("binding volumes: %w", context.DeadlineExceeded)
		case wakeClose:
			err = fmt.Errorf("binding volumes: %w", context.Canceled)
		default:
			var done bool
			if err = p.ctx.Err(); err != nil {
				// Cancelled (preempted): the poll returns the context's error.
				err = fmt.Errorf("binding volumes: %w", err)
			} else if done, err = p.binder.checkBindings(p); err != nil {
				err = fmt.Errorf("binding volumes: %w", err)
			} else if !done {
				d.endCycle() // parked again
				continue
			}
		}
		d.unpark(p)
		return err
	}
}

// unpark forgets a cycle that stops waiting; the binding goroutine calls it before it goes on.
func (d *driver) unpark(p *parkedCycle) {
	p.parked = false
	if p.timer != nil {
		p.timer.Cancel()
	}
	if p.poll != nil {
		p.poll.Cancel()
		p.poll = nil
	}
	d.parked = slices.DeleteFunc(d.parked, func(q *parkedCycle) bool { return q == p })
	delete(d.parkedPods, p.pod.UID)
	d.parkRefs(p, -1)
}

// parkRefs counts the nodes, claims and PVs parked cycles depend on, for the watcher.
func (d *driver) parkRefs(p *parkedCycle, n int) {
	add := func(m map[string]int, k string) {
		if m[k] += n; m[k] == 0 {
			delete(m, k)
		}
	}
	add(d.parkedRefs.nodes, p.pod.Spec.NodeName)
	for _, s := range p.static {
		add(d.parkedRefs.claims, s.claim)
		add(d.parkedRefs.pvs, s.pv)
	}
	for _, c := range p.provisioned {
		add(d.parkedRefs.claims, c)
	}
}

// resumeParked wakes one parked cycle and waits until it parks again or ends. Simulation goroutine
// only.
func (d *driver) resumeParked(p *parkedCycle, r wakeReason) {
	if !p.parked {
		return
	}
	select {
	case <-d.done:
	default:
	}
	p.wake <- r
	<-d.done
}

// wakeParked wakes the parked cycles whose inputs changed to check their bindings, in park
// order. A cycle that other changes make dirty meanwhile is woken by the next wake.
func (d *driver) wakeParked() {
	d.wakeArmed = false
	for _, p := range slices.Clone(d.parked) {
		if p.dirty {
			p.dirty = false
			d.resumeParked(p, wakeCheck)
		}
	}
}

// markDirty marks a cycle for the next wake, and schedules that wake at this instant, once.
func (d *driver) markDirty(p *parkedCycle) {
	p.dirty = true
	if d.wakeArmed || d.afterNow == nil {
		return
	}
	d.wakeArmed = true
	d.afterNow(d.wakeParked)
}

// pollInterval is BindPodVolumes' poll period (wait.PollUntilContextTimeout's interval).
const pollInterval = time.Second

// markChanged marks a cycle for a check at its next poll tick (since + k·pollInterval, k ≥ 1,
// the first at or after now), and arms that poll, once. A tick past the deadline is never
// reached: the deadline ends the wait first.
func (d *driver) markChanged(p *parkedCycle) {
	p.dirty = true
	if p.poll != nil || d.at == nil {
		return
	}
	k := (d.now().Sub(p.since) + pollInterval - 1) / pollInterval
	tick := p.since.Add(max(k, 1) * pollInterval)
	if tick.After(p.deadline) {
		return
	}
	p.poll = d.at(tick, func() {
		p.poll = nil
		if p.dirty {
			p.dirty = false
			d.resumeParked(p, wakeCheck)
		}
	})
}

// markChangedIf marks the parked cycles that match for their next poll.
func (d *driver) markChangedIf(match func(*parkedCycle) bool) {
	for _, p := range d.parked {
		if match(p) {
			d.markChanged(p)
		}
	}
}

// watchParked is the API watcher that arms a wake when something a parked cycle's check reads
// changed. It runs inside the write (the Watcher rule): it only schedules.
func (d *driver) watchParked(ev WatchEvent) {
	if len(d.parked) == 0 {
		return
	}
	switch ev.Kind.Name() {
	case "Pod":
		if p, ok := d.parkedPods[ev.Object.(*corev1.Pod).UID]; ok {
			d.markChanged(p)
		}
	case "Node", "CSINode":
		if m, err := meta.Accessor(ev.Object); err == nil && d.parkedRefs.nodes[m.GetName()] > 0 {
			name := m.GetName()
			d.markChangedIf(func(p *parkedCycle) bool { return p.pod.Spec.NodeName == name })
		}
	case "PersistentVolumeClaim":
		pvc := ev.Object.(*corev1.PersistentVolumeClaim)
		if k := pvc.Namespace + "/" + pvc.Name; d.parkedRefs.claims[k] > 0 {
			d.markChangedIf(func(p *parkedCycle) bool { return p.readsClaim(k) })
		}
	case "PersistentVolume":
		for _, o := range []any{ev.Old, ev.Object} {
			pv, ok := o.(*corev1.PersistentVolume)
			if !ok || pv == nil {
				continue
			}
			// A PV of a static binding, or one bound (or unbound) to a parked claim: a
			// provisioned claim's PV is read through the claim's volumeName.
			if d.parkedRefs.pvs[pv.Name] > 0 {
				name := pv.Name
				d.markChangedIf(func(p *parkedCycle) bool { return p.readsPV(name) })
			}
			if ref := pv.Spec.ClaimRef; ref != nil {
				if k := ref.Namespace + "/" + ref.Name; d.parkedRefs.claims[k] > 0 {
					d.markChangedIf(func(p *parkedCycle) bool { return p.readsClaim(k) })
				}
			}
		}
	}
}

// afterPreemption wakes the parked victims whose binding a preemption cancelled: the real
// executor cancels the context of a victim in PreBind (preemption/executor.go PreemptPod).
func (d *driver) afterPreemption() {
	for _, p := range d.parked {
		if p.ctx.Err() != nil {
			d.markDirty(p)
		}
	}
}

// releaseParked ends every parked cycle when the simulator is closed, so that no goroutine
// outlives it. Their pods stay as the run left them: the failure handler is skipped.
func (d *driver) releaseParked() {
	d.closing = true
	for _, p := range slices.Clone(d.parked) {
		d.resumeParked(p, wakeClose)
	}
}

// ParkedPod is a pod whose binding cycle waits in VolumeBinding's PreBind for its claims to be
// bound or provisioned: the scheduler has chosen its node and assumed it there (its resources
// count on that node), but it is not bound, so the API shows it pending.
type ParkedPod struct {
	Namespace, Name string
	UID             types.UID
	// Node is the node chosen: a provisioned claim's volume.kubernetes.io/selected-node.
	Node string
	// Since is when the wait began, Deadline when it times out (bindTimeoutSeconds later),
	// as virtual time since Epoch.
	Since, Deadline time.Duration
	// Claims are the claims waited for (namespace/name): those bound to a PV by the
	// scheduler first, then those to provision, in the order they are checked.
	Claims []string
}

// ParkedPods lists the pods waiting for their volumes, in the order they began to wait. The
// claims' own state (selected node, bound or not) is in the API. Read it between events (after
// Run, or from a clock event).
func (s *Simulator) ParkedPods() []ParkedPod {
	out := make([]ParkedPod, 0, len(s.driver.parked))
	for _, p := range s.driver.parked {
		pp := ParkedPod{Namespace: p.pod.Namespace, Name: p.pod.Name, UID: p.pod.UID, Node: p.pod.Spec.NodeName,
			Since: p.since.Sub(Epoch), Deadline: p.deadline.Sub(Epoch)}
		for _, sb := range p.static {
			pp.Claims = append(pp.Claims, sb.claim)
		}
		pp.Claims = append(pp.Claims, p.provisioned...)
		out = append(out, pp)
	}
	return out
}

// parkedWarnings are the report's warnings for the pods still waiting for their volumes when
// the run ended: upstream records no event while PreBind waits, and without a word such a pod
// would read as pending for no reason.
func (s *Simulator) parkedWarnings() []analysis.WarningRecord {
	var out []analysis.WarningRecord
	for _, p := range s.ParkedPods() {
		out = append(out, analysis.WarningRecord{At: p.Since, Kind: "Pod", Namespace: p.Namespace, Name: p.Name,
			Reason: "WaitingForVolumeBinding",
			Message: fmt.Sprintf("the scheduler chose node %s and waits in VolumeBinding's PreBind for %s to be bound by the PV controller or provisioned; "+
				"the pod is assumed on the node, not bound. The run ended before t=%s, when the wait would time out (bindTimeoutSeconds) and the pod be retried",
				p.Node, strings.Join(p.Claims, ", "), p.Deadline)})
	}
	return out
}
