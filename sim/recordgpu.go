package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/kwoksim/kwoksim/analysis"
)

// The GPU resources and capacity the gpu log reads (analysis.GPUMilliResource,
// analysis.GPUMilliCapacity): openb's pooled import gives each node gpu×1000 of
// GPUMilliResource, one pool the NodeResourcesFit plugin fills without regard to cards; a
// device plugin's whole GPUs are counted as cards of 1000 each.
const (
	GPUMilliResource corev1.ResourceName      = analysis.GPUMilliResource
	GPUMilliCapacity resourcev1.QualifiedName = analysis.GPUMilliCapacity
	nvidiaGPU        corev1.ResourceName      = "nvidia.com/gpu"
	wholeCard                                 = 1000
)

// gpuLog follows the cluster's GPUs for the report's gpu section (analysis.GPUReport): the
// cards of every node (devices of the ResourceSlices naming it, or its pooled GPU resources),
// what the allocated claims and the bound pods take of them and of the node's CPU and memory,
// and the GPU demand of every pod created. It logs a GPU node's whole state after each change
// (analysis.GPUChange), at most once per node and instant; analysis weighs the states against
// the demands.
type gpuLog struct {
	nodes     []*gpuNode
	nodeIndex map[string]int32
	// types are the distinct card descriptions, by key (see cardType).
	types     []gpuCardType
	typeIndex map[string]int32
	// devices finds the card of a device named by an allocation result.
	devices map[deviceID]cardRef
	// slices holds the devices each ResourceSlice published, to take them back.
	slices map[string][]deviceID
	// claims holds what each allocated claim takes, to give it back.
	claims map[types.UID][]cardUse
	pods   map[types.UID]*gpuPod
	// templates and claimSpecs are the stored ResourceClaimTemplates and ResourceClaims by
	// namespace and name, and classes the DeviceClasses, to read a pod's demand.
	templates  map[objectKey]*resourcev1.ResourceClaimTemplate
	claimSpecs map[objectKey]*resourcev1.ResourceClaim
	classes    map[string]*resourcev1.DeviceClass
	shapes     []*gpuShape
	shapeIndex map[string]int32
	unresolved int
	changes    []analysis.GPUChange
	pooled     bool
	dra        bool
	// poolType and wholeType are the types of the pooled cards: a pool of GPU-milli, a whole
	// nvidia.com/gpu.
	poolType, wholeType int32
}

type deviceID struct{ driver, pool, device string }

type cardRef struct{ node, card int32 }

type cardUse struct {
	cardRef
	milli int64
}

type gpuNode struct {
	name   string
	labels map[string]string
	exists bool
	// cpuFree and memFree are allocatable (cpuAlloc, memAlloc) less the requests of the pods
	// counted on the node.
	cpuFree, memFree   int64
	cpuAlloc, memAlloc int64
	// pooledCards is whether the node's pooled GPUs are among its cards.
	pooledCards bool
	cards       []analysis.GPUCard
	// logged is whether the node's state was ever logged (a node whose cards went away must
	// say so), last the index of its latest change in the log.
	logged bool
	last   int
}

type gpuCardType struct {
	driver string
	device resourcev1.Device
}

type gpuPod struct {
	node     int32 // -1 while not counted on a node
	cpu, mem int64
	uses     []cardUse
	pooled   int64 // pooled GPU-milli requested (GPUMilliResource)
	whole    int64 // whole pooled cards requested (nvidia.com/gpu)
}

// gpuShape is one GPU demand and an example pod that has it, for its node affinity.
type gpuShape struct {
	analysis.GPUShape
	pod *corev1.Pod
	// dra is a demand of devices through claims, selectors their CEL device selectors (the
	// class's and the request's); pooledType the card type of a pooled demand.
	dra        bool
	selectors  []string
	pooledType int32
}

func (l *gpuLog) init() {
	if l.nodeIndex == nil {
		l.nodeIndex, l.typeIndex = map[string]int32{}, map[string]int32{}
		l.devices, l.slices = map[deviceID]cardRef{}, map[string][]deviceID{}
		l.claims, l.pods = map[types.UID][]cardUse{}, map[types.UID]*gpuPod{}
		l.templates, l.claimSpecs = map[objectKey]*resourcev1.ResourceClaimTemplate{}, map[objectKey]*resourcev1.ResourceClaim{}
		l.classes, l.shapeIndex = map[string]*resourcev1.DeviceClass{}, map[string]int32{}
		l.poolType = l.cardType(string(GPUMilliResource), resourcev1.Device{})
		l.wholeType = l.cardType(string(nvidiaGPU), resourcev1.Device{})
	}
}

func (l *gpuLog) node(name string) int32 {
	if i, ok := l.nodeIndex[name]; ok {
		return i
	}
	i := int32(len(l.nodes))
	l.nodes = append(l.nodes, &gpuNode{name: name})
	l.nodeIndex[name] = i
	return i
}

// logChange records node i's state at now, replacing a record of the same node and instant.
func (l *gpuLog) logChange(i int32, now time.Duration) {
	n := l.nodes[i]
	if len(n.cards) == 0 && !n.logged {
		return // not a GPU node, and never was
	}
	c := analysis.GPUChange{At: now, Node: i, Exists: n.exists, CPUFree: n.cpuFree, MemoryFree: n.memFree, Cards: slices.Clone(n.cards)}
	if n.logged && l.changes[n.last].At == now {
		l.changes[n.last] = c
		return
	}
	n.logged, n.last = true, len(l.changes)
	l.changes = append(l.changes, c)
}

func (l *gpuLog) observeNode(typ watch.EventType, n *corev1.Node, now time.Duration) {
	l.init()
	i, known := l.nodeIndex[n.Name]
	if !known && typ == watch.Deleted {
		return
	}
	if !known {
		i = l.node(n.Name)
	}
	g := l.nodes[i]
	cpu, mem := n.Status.Allocatable.Cpu().MilliValue(), n.Status.Allocatable.Memory().Value()
	if typ == watch.Deleted {
		// Its pooled cards go with it; its slices' cards go with the slices, which the garbage
		// collector deletes.
		g.exists = false
		g.cpuFree -= g.cpuAlloc
		g.memFree -= g.memAlloc
		g.cpuAlloc, g.memAlloc, g.pooledCards = 0, 0, false
		for j, c := range g.cards {
			if c.Type == l.poolType || c.Type == l.wholeType {
				g.cards[j] = analysis.GPUCard{Type: c.Type} // kept in place: cardRefs index the others
			}
		}
		l.logChange(i, now)
		return
	}
	// A node's allocatable may come after its creation (a stage, a trace patch): what is free
	// moves by the change; its labels are read for node affinity at the end.
	changed := !g.exists || cpu != g.cpuAlloc || mem != g.memAlloc
	g.exists, g.labels = true, n.Labels
	g.cpuFree += cpu - g.cpuAlloc
	g.memFree += mem - g.memAlloc
	g.cpuAlloc, g.memAlloc = cpu, mem
	if !g.pooledCards {
		// Its pooled GPUs, from the first allocatable that has them; a later change to
		// their amount is not followed.
		for _, c := range l.poolCards(n) {
			g.cards = append(g.cards, c)
			g.pooledCards, l.pooled, changed = true, true, true
		}
	}
	if changed {
		l.logChange(i, now)
	}
}

// poolCards are a node's pooled GPUs: one pool of its GPUMilliResource, and a card of 1000 per
// nvidia.com/gpu.
func (l *gpuLog) poolCards(n *corev1.Node) []analysis.GPUCard {
	var cards []analysis.GPUCard
	if q, ok := n.Status.Allocatable[GPUMilliResource]; ok && q.Value() > 0 {
		cards = append(cards, analysis.GPUCard{Type: l.poolType, Capacity: q.Value(), Free: q.Value()})
	}
	if q, ok := n.Status.Allocatable[nvidiaGPU]; ok {
		for range min(q.Value(), 1024) {
			cards = append(cards, analysis.GPUCard{Type: l.wholeType, Capacity: wholeCard, Free: wholeCard})
		}
	}
	return cards
}

// cardType is the index of a device's type: its driver and attributes (capacities aside).
func (l *gpuLog) cardType(driver string, d resourcev1.Device) int32 {
	keys := make([]string, 0, len(d.Attributes))
	for k := range d.Attributes {
		keys = append(keys, string(k))
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(driver)
	for _, k := range keys {
		fmt.Fprintf(&b, "|%s=%s", k, attributeString(d.Attributes[resourcev1.QualifiedName(k)]))
	}
	key := b.String()
	if i, ok := l.typeIndex[key]; ok {
		return i
	}
	i := int32(len(l.types))
	l.types = append(l.types, gpuCardType{driver: driver, device: resourcev1.Device{Attributes: d.Attributes, Capacity: d.Capacity, AllowMultipleAllocations: d.AllowMultipleAllocations}})
	l.typeIndex[key] = i
	return i
}

// attributeString renders an attribute's value (its fields are pointers, which %v would print
// as addresses).
func attributeString(a resourcev1.DeviceAttribute) string {
	switch {
	case a.StringValue != nil:
		return "s:" + *a.StringValue
	case a.IntValue != nil:
		return fmt.Sprintf("i:%d", *a.IntValue)
	case a.BoolValue != nil:
		return fmt.Sprintf("b:%t", *a.BoolValue)
	case a.VersionValue != nil:
		return "v:" + *a.VersionValue
	}
	return fmt.Sprintf("%v", a.StringValues) + fmt.Sprintf("%v", a.IntValues) + fmt.Sprintf("%v", a.BoolValues) + fmt.Sprintf("%v", a.VersionValues)
}

func (l *gpuLog) observeSlice(typ watch.EventType, s *resourcev1.ResourceSlice, now time.Duration) {
	l.init()
	if old := l.slices[s.Name]; old != nil {
		for _, id := range old {
			ref := l.devices[id]
			l.nodes[ref.node].cards[ref.card] = analysis.GPUCard{Type: l.nodes[ref.node].cards[ref.card].Type}
			delete(l.devices, id)
			l.logChange(ref.node, now)
		}
		delete(l.slices, s.Name)
	}
	if typ == watch.Deleted || s.Spec.NodeName == nil || *s.Spec.NodeName == "" {
		return
	}
	i := l.node(*s.Spec.NodeName)
	g := l.nodes[i]
	var ids []deviceID
	for _, d := range s.Spec.Devices {
		id := deviceID{s.Spec.Driver, s.Spec.Pool.Name, d.Name}
		if _, dup := l.devices[id]; dup {
			continue
		}
		capacity := int64(wholeCard)
		if c, ok := d.Capacity[GPUMilliCapacity]; ok {
			capacity = c.Value.Value()
		}
		l.devices[id] = cardRef{i, int32(len(g.cards))}
		g.cards = append(g.cards, analysis.GPUCard{Type: l.cardType(s.Spec.Driver, d), Capacity: capacity, Free: capacity})
		ids = append(ids, id)
	}
	l.slices[s.Name] = ids
	l.dra = true
	l.logChange(i, now)
}

func (l *gpuLog) observeClaim(typ watch.EventType, c *resourcev1.ResourceClaim, now time.Duration) {
	l.init()
	k := objectKey{namespace: c.Namespace, name: c.Name}
	if typ == watch.Deleted {
		delete(l.claimSpecs, k)
	} else {
		l.claimSpecs[k] = c
	}
	uses, had := l.claims[c.UID]
	allocated := typ != watch.Deleted && c.Status.Allocation != nil
	if had == allocated {
		return
	}
	if had {
		delete(l.claims, c.UID)
		for _, u := range uses {
			l.nodes[u.node].giveBack(u)
		}
		l.logUses(uses, now)
		return
	}
	for _, r := range c.Status.Allocation.Devices.Results {
		ref, ok := l.devices[deviceID{r.Driver, r.Pool, r.Device}]
		if !ok {
			continue
		}
		card := &l.nodes[ref.node].cards[ref.card]
		milli := card.Capacity
		if q, ok := r.ConsumedCapacity[GPUMilliCapacity]; ok {
			milli = q.Value()
		}
		card.Free -= milli
		uses = append(uses, cardUse{ref, milli})
	}
	l.claims[c.UID] = uses
	if uses == nil {
		l.claims[c.UID] = []cardUse{}
	}
	l.logUses(uses, now)
}

// giveBack frees what a claim or pod took of a card, unless the card went away meanwhile (its
// node or slice deleted; a slice published anew has new cards).
func (n *gpuNode) giveBack(u cardUse) {
	if c := &n.cards[u.card]; c.Capacity > 0 {
		c.Free = min(c.Free+u.milli, c.Capacity)
	}
}

func (l *gpuLog) logUses(uses []cardUse, now time.Duration) {
	for j, u := range uses {
		if j == 0 || u.node != uses[j-1].node {
			l.logChange(u.node, now)
		}
	}
}

func (l *gpuLog) observeTemplate(typ watch.EventType, t *resourcev1.ResourceClaimTemplate) {
	l.init()
	k := objectKey{namespace: t.Namespace, name: t.Name}
	if typ == watch.Deleted {
		delete(l.templates, k)
		return
	}
	l.templates[k] = t
}

func (l *gpuLog) observeClass(typ watch.EventType, c *resourcev1.DeviceClass) {
	l.init()
	if typ == watch.Deleted {
		delete(l.classes, c.Name)
		return
	}
	l.classes[c.Name] = c
}

// observePod counts a pod's requests on its node while it is bound and not terminated, takes
// its pooled GPUs, and on its creation adds its GPU demand to the shapes.
func (l *gpuLog) observePod(typ watch.EventType, p *corev1.Pod, now time.Duration) {
	l.init()
	g := l.pods[p.UID]
	if g == nil {
		if typ == watch.Deleted {
			return
		}
		g = &gpuPod{node: -1}
		reqs := resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})
		g.cpu, g.mem = reqs.Cpu().MilliValue(), reqs.Memory().Value()
		if q, ok := reqs[GPUMilliResource]; ok {
			g.pooled = q.Value()
		}
		if q, ok := reqs[nvidiaGPU]; ok {
			g.whole = q.Value()
		}
		l.pods[p.UID] = g
		l.addShape(p, g)
	}
	active := typ != watch.Deleted && p.Spec.NodeName != "" && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
	if active == (g.node >= 0) {
		if typ == watch.Deleted {
			delete(l.pods, p.UID)
		}
		return
	}
	if active {
		g.node = l.node(p.Spec.NodeName)
		n := l.nodes[g.node]
		n.cpuFree -= g.cpu
		n.memFree -= g.mem
		l.takePooled(g, n)
	} else {
		n := l.nodes[g.node]
		n.cpuFree += g.cpu
		n.memFree += g.mem
		for _, u := range g.uses {
			n.giveBack(u)
		}
		g.uses = nil
		l.logChange(g.node, now)
		g.node = -1
		if typ == watch.Deleted {
			delete(l.pods, p.UID)
		}
		return
	}
	l.logChange(g.node, now)
}

// takePooled takes a bound pod's pooled GPU requests from its node: GPU-milli from the pool,
// whole GPUs from the first free cards (which card the device plugin gives does not change
// what is free).
func (l *gpuLog) takePooled(g *gpuPod, n *gpuNode) {
	whole := g.whole
	for j := range n.cards {
		c := &n.cards[j]
		switch {
		case g.pooled > 0 && c.Type == l.poolType:
			c.Free -= g.pooled
			g.uses = append(g.uses, cardUse{cardRef{card: int32(j)}, g.pooled})
		case whole > 0 && c.Type == l.wholeType && c.Free == wholeCard:
			c.Free = 0
			g.uses = append(g.uses, cardUse{cardRef{card: int32(j)}, wholeCard})
			whole--
		}
	}
}
