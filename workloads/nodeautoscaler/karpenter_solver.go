package nodeautoscaler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	resourcehelper "k8s.io/component-helpers/resource"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	"github.com/kwoksim/kwoksim/autoscaling"
)

// ksolver packs pods as Karpenter's provisioning scheduler does
// (pkg/controllers/provisioning/scheduling/scheduler.go, Scheduler.Solve and Scheduler.add):
// each pod goes to the first existing node that takes it (initialized nodes first, then by
// name: sortExistingNodes), else to a NodeClaim already opened in this solve (fewest pods
// first: addToInflightNode), else to a new NodeClaim of the first pool, by weight, that can
// take it (addToNewNodeClaim). Whether a pod fits is the real scheduler's PreFilter and
// Filter plugins on the Snapshot; a claim is a template node of its largest remaining shape,
// and the shapes it may still launch as narrow, with each pod, to those whose allocatable
// holds its pods and DaemonSet overhead (NodeClaim.CanAdd, filterInstanceTypesByRequirements).
type ksolver struct {
	k  *karpenter
	sn *Snapshot
	// existing are the nodes tried first, in order.
	existing []string
	claims   []*kclaim
	// daemons are the DaemonSets' pod templates: the overhead a new node carries.
	daemons []*corev1.Pod
	// pools may open new claims (nil: every pool, in weight order).
	pools []*Pool
}

// kclaim is a NodeClaim the solve opened: the template node kclaim.name in the Snapshot.
type kclaim struct {
	pool   *Pool
	name   string
	shapes []string
	rep    string
	pods   []*corev1.Pod
}

// newSolver builds the solver's Snapshot: the cluster without the nodes being removed and
// without exclude; pool nodes not yet Initialized (launched, or registered and not Ready) are
// template copies of their shape, as Karpenter's cluster state sees an in-flight NodeClaim.
// It returns the pods that were on the nodes taken out.
func (k *karpenter) newSolver(exclude map[string]bool) (*ksolver, []*corev1.Pod, error) {
	rt := k.rt
	sn, err := rt.Snapshot()
	if err != nil {
		return nil, nil, err
	}
	sn.ignoreClaims = rt.opts.IgnoreDRARequests // always true: false is refused (autoscaling/flags.go)
	s := &ksolver{k: k, sn: sn}
	if s.daemons, err = k.daemonPods(); err != nil {
		return nil, nil, err
	}
	var out []*corev1.Pod
	var ready, inflight []string
	for _, n := range slices.Clone(sn.Nodes()) {
		m := rt.members[n.Name]
		switch {
		case exclude[n.Name] || (m != nil && m.Removing()):
			out = append(out, sn.RemoveNode(n.Name)...)
		case m != nil && !m.Ready():
			pods := sn.RemoveNode(n.Name)
			t, err := rt.Template(m.Pool, m.Shape, m.Name)
			if err != nil {
				return nil, nil, err
			}
			sn.AddNode(t)
			for _, p := range pods {
				if err := sn.Place(p, m.Name); err != nil {
					return nil, nil, err
				}
			}
			inflight = append(inflight, n.Name)
		default:
			ready = append(ready, n.Name)
		}
	}
	// Launched and not registered: a template with its DaemonSet overhead.
	for _, p := range rt.pools {
		for _, m := range p.members {
			if m.Registered() || m.Removing() || exclude[m.Name] {
				continue
			}
			if err := s.addTemplate(p, m.Shape, m.Name); err != nil {
				return nil, nil, err
			}
			inflight = append(inflight, m.Name)
		}
	}
	slices.Sort(inflight)
	s.existing = append(ready, inflight...)
	return s, out, nil
}

// daemonPods are a pod of each DaemonSet, by namespace and name, as its template makes it.
func (k *karpenter) daemonPods() ([]*corev1.Pod, error) {
	objs, err := k.rt.api.List(k.dsKind)
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for _, o := range objs {
		ds := o.(*appsv1.DaemonSet)
		p := &corev1.Pod{Spec: *ds.Spec.Template.Spec.DeepCopy()}
		p.Namespace, p.Name, p.Labels = ds.Namespace, ds.Name, ds.Spec.Template.Labels
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *corev1.Pod) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// addTemplate adds a template node of the shape, with a pod of each DaemonSet that would run
// on it (Karpenter's daemonOverheadGroups).
func (s *ksolver) addTemplate(p *Pool, shape, name string) error {
	t, err := s.k.rt.Template(p, shape, name)
	if err != nil {
		return err
	}
	s.sn.AddNode(t)
	for _, d := range s.daemons {
		if !nodeCompatible(d, t) {
			continue
		}
		dp := d.DeepCopy()
		dp.Name = d.Name + "-" + name
		dp.UID = types.UID("kwoksim-daemon-overhead/" + d.Namespace + "/" + d.Name + "/" + name)
		if err := s.sn.Place(dp, name); err != nil {
			return err
		}
	}
	return nil
}

// overhead is the requests of the DaemonSet pods that would run on the shape.
func (s *ksolver) overhead(t *corev1.Node) []*corev1.Pod {
	var out []*corev1.Pod
	for _, d := range s.daemons {
		if nodeCompatible(d, t) {
			out = append(out, d)
		}
	}
	return out
}

// nodeCompatible is whether the pod's required node affinity and selector match the node and
// it tolerates the node's NoSchedule and NoExecute taints (component-helpers, the rules of
// the NodeAffinity and TaintToleration filters): what differs between a pool's shapes.
func nodeCompatible(pod *corev1.Pod, n *corev1.Node) bool {
	if ok, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(n); err != nil || !ok {
		return false
	}
	_, untolerated := corev1helpers.FindMatchingUntoleratedTaint(klogDiscard, n.Spec.Taints, pod.Spec.Tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	}, true)
	return !untolerated
}

// resourcesFit is whether the pods' requests (resource.PodRequests) and count fit the
// node's allocatable.
func resourcesFit(pods []*corev1.Pod, n *corev1.Node) bool {
	sum := corev1.ResourceList{}
	for _, p := range pods {
		for name, q := range resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{}) {
			v := sum[name]
			v.Add(q)
			sum[name] = v
		}
	}
	for name, q := range sum {
		if q.IsZero() {
			continue
		}
		if a, ok := n.Status.Allocatable[name]; !ok || q.Cmp(a) > 0 {
			return false
		}
	}
	max := n.Status.Allocatable[corev1.ResourcePods]
	return resource.NewQuantity(int64(len(pods)), resource.DecimalSI).Cmp(max) <= 0
}

// shapesFor are the claim's shapes (in pool order) that would take its pods plus pod.
func (s *ksolver) shapesFor(p *Pool, shapes []string, pods []*corev1.Pod, pod *corev1.Pod) ([]string, error) {
	var out []string
	for _, sh := range shapes {
		t, err := s.k.rt.Template(p, sh, "shape")
		if err != nil {
			return nil, err
		}
		if !nodeCompatible(pod, t) {
			continue
		}
		all := append(append(slices.Clone(pods), pod), s.overhead(t)...)
		if resourcesFit(all, t) {
			out = append(out, sh)
		}
	}
	return out, nil
}

// largest is the shape a claim is simulated as: the most allocatable CPU, then memory, then
// the name, so that every other remaining shape is at most as big.
func largest(p *Pool, shapes []string) string {
	return slices.MaxFunc(shapes, func(a, b string) int {
		sa, sb := p.Shape(a), p.Shape(b)
		ca, cb := sa.Allocatable[corev1.ResourceCPU], sb.Allocatable[corev1.ResourceCPU]
		ma, mb := sa.Allocatable[corev1.ResourceMemory], sb.Allocatable[corev1.ResourceMemory]
		return cmp.Or(ca.Cmp(cb), ma.Cmp(mb), cmp.Compare(b, a))
	})
}

// solve places the pods, sorted by CPU then memory, descending (queue.go,
// byCPUAndMemoryDescending; ties by namespace and name). A pod that fails is retried after
// the others until a round makes no progress (Queue.Pop). It returns, per pod that found no
// place, why.
func (s *ksolver) solve(pods []*corev1.Pod) (map[types.UID]string, error) {
	queue := slices.Clone(pods)
	slices.SortStableFunc(queue, func(a, b *corev1.Pod) int {
		ra := resourcehelper.PodRequests(a, resourcehelper.PodResourcesOptions{})
		rb := resourcehelper.PodRequests(b, resourcehelper.PodResourcesOptions{})
		ca, cb := ra[corev1.ResourceCPU], rb[corev1.ResourceCPU]
		ma, mb := ra[corev1.ResourceMemory], rb[corev1.ResourceMemory]
		return cmp.Or(cb.Cmp(ca), mb.Cmp(ma), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	errs := map[types.UID]string{}
	for len(queue) > 0 {
		var failed []*corev1.Pod
		for _, p := range queue {
			why, err := s.add(p)
			if err != nil {
				return nil, err
			}
			if why != "" {
				errs[p.UID] = why
				failed = append(failed, p)
			} else {
				delete(errs, p.UID)
			}
		}
		if len(failed) == len(queue) {
			break
		}
		queue = failed
	}
	return errs, nil
}

// add places one pod (Scheduler.add); "" when placed, else why not.
func (s *ksolver) add(pod *corev1.Pod) (string, error) {
	n, err := s.sn.FirstFit(pod, s.existing)
	if err != nil || n != "" {
		if n != "" {
			err = s.sn.Place(pod, n)
		}
		return "", err
	}
	// addToInflightNode: the claims with fewest pods first (sort.Slice; kwoksim keeps ties in
	// the order they were opened).
	inflight := slices.Clone(s.claims) // s.claims stays in the order the claims were opened
	slices.SortStableFunc(inflight, func(a, b *kclaim) int { return cmp.Compare(len(a.pods), len(b.pods)) })
	for _, c := range inflight {
		ok, err := s.tryClaim(c, pod)
		if err != nil || ok {
			return "", err
		}
	}
	return s.newClaim(pod)
}

// tryClaim adds the pod to the claim if a remaining shape takes it and the Filter plugins
// accept it on the claim's node, narrowing the claim's shapes.
func (s *ksolver) tryClaim(c *kclaim, pod *corev1.Pod) (bool, error) {
	shapes, err := s.shapesFor(c.pool, c.shapes, c.pods, pod)
	if err != nil || len(shapes) == 0 {
		return false, err
	}
	old := c.rep
	if rep := largest(c.pool, shapes); rep != c.rep {
		if err := s.reshape(c, rep); err != nil {
			return false, err
		}
	}
	f, err := s.sn.Fits(pod, c.name)
	if err != nil {
		return false, err
	}
	if !f.OK {
		if c.rep != old {
			return false, s.reshape(c, old)
		}
		return false, nil
	}
	c.shapes, c.pods = shapes, append(c.pods, pod)
	return true, s.sn.Place(pod, c.name)
}

// reshape swaps the claim's template node for one of another shape, keeping its pods.
func (s *ksolver) reshape(c *kclaim, shape string) error {
	pods := s.sn.RemoveNode(c.name)
	if err := s.addTemplate(c.pool, shape, c.name); err != nil {
		return err
	}
	c.rep = shape
	for _, p := range pods {
		if strings.HasPrefix(string(p.UID), "kwoksim-daemon-overhead/") {
			continue
		}
		if err := s.sn.Place(p, c.name); err != nil {
			return err
		}
	}
	return nil
}

// newClaim opens a NodeClaim for the pod from the first pool, by weight, that takes it
// (addToNewNodeClaim); the pool's max is a node-count limit.
func (s *ksolver) newClaim(pod *corev1.Pod) (string, error) {
	pools := s.pools
	if pools == nil {
		pools = slices.Clone(s.k.rt.pools)
		slices.SortStableFunc(pools, func(a, b *Pool) int { return autoscaling.CompareWeight(a.NodePool, b.NodePool) })
	}
	var whys []string
	for _, p := range pools {
		open := 0
		for _, c := range s.claims {
			if c.pool == p {
				open++
			}
		}
		if p.Size()+open >= int(p.Spec.Max) {
			// The limits check (remainingResources) runs before any instance type is tried.
			whys = append(whys, fmt.Sprintf("node limits have been exhausted for nodepool (NodePool=%s)", p.Name))
			continue
		}
		all := make([]string, 0, len(p.Spec.Shapes))
		for _, sh := range p.Spec.Shapes {
			all = append(all, sh.Name)
		}
		shapes, err := s.shapesFor(p, all, nil, pod)
		if err != nil {
			return "", err
		}
		if len(shapes) == 0 {
			why, err := s.incompatible(p, largest(p, all), pod)
			if err != nil {
				return "", err
			}
			whys = append(whys, why)
			continue
		}
		s.k.claimSeq++
		c := &kclaim{pool: p, name: fmt.Sprintf("kwoksim-nodeclaim-%d", s.k.claimSeq), shapes: shapes, rep: largest(p, shapes)}
		if err := s.addTemplate(p, c.rep, c.name); err != nil {
			return "", err
		}
		f, err := s.sn.Fits(pod, c.name)
		if err != nil {
			return "", err
		}
		if !f.OK {
			s.sn.RemoveNode(c.name)
			whys = append(whys, fmt.Sprintf("incompatible with nodepool %q, %s", p.Name, f))
			continue
		}
		c.pods = []*corev1.Pod{pod}
		s.claims = append(s.claims, c)
		return "", s.sn.Place(pod, c.name)
	}
	if len(whys) == 0 {
		return "no nodepool may launch a node for it", nil
	}
	return strings.Join(whys, "; "), nil
}

// incompatible says why no shape of the pool takes the pod, in the Filter plugins' words on
// an empty node of the pool's largest shape.
func (s *ksolver) incompatible(p *Pool, shape string, pod *corev1.Pod) (string, error) {
	s.k.claimSeq++
	name := fmt.Sprintf("kwoksim-nodeclaim-%d", s.k.claimSeq)
	if err := s.addTemplate(p, shape, name); err != nil {
		return "", err
	}
	defer s.sn.RemoveNode(name)
	f, err := s.sn.Fits(pod, name)
	if err != nil {
		return "", err
	}
	why := f.String()
	if f.OK {
		why = "no instance type has enough resources"
	}
	return fmt.Sprintf("incompatible with nodepool %q, %s", p.Name, why), nil
}
