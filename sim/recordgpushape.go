package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	dracel "k8s.io/dynamic-resource-allocation/cel"

	"github.com/kwoksim/kwoksim/analysis"
)

// addShape adds a new pod's GPU demand to the shapes. A pod with resource claims demands what
// their device requests ask for (a template's, or a named claim's, as stored when the pod is
// created): the sum of their counts, the largest gpuMilli capacity request (a whole card
// without one), on cards every selector matches (the DeviceClass's and the request's; of a
// prioritized list, its first choice). Without claims, its pooled GPU requests: one pool of
// GPU-milli, or whole nvidia.com/gpu cards.
func (l *gpuLog) addShape(p *corev1.Pod, g *gpuPod) {
	s := gpuShape{GPUShape: analysis.GPUShape{CPU: g.cpu, Memory: g.mem}, pod: p}
	switch {
	case len(p.Spec.ResourceClaims) > 0:
		s.dra = true
		for _, pc := range p.Spec.ResourceClaims {
			spec := l.claimSpec(p.Namespace, pc)
			if spec == nil {
				l.unresolved++
				return
			}
			for _, r := range spec.Devices.Requests {
				e := r.Exactly
				if e == nil && len(r.FirstAvailable) > 0 {
					sub := r.FirstAvailable[0]
					e = &resourcev1.ExactDeviceRequest{DeviceClassName: sub.DeviceClassName, Selectors: sub.Selectors,
						AllocationMode: sub.AllocationMode, Count: sub.Count, Capacity: sub.Capacity}
				}
				if e == nil || e.AllocationMode == resourcev1.DeviceAllocationModeAll {
					// "All devices" depends on the node; no fixed demand to weigh.
					l.unresolved++
					return
				}
				s.Cards += max(e.Count, 1)
				milli := int64(wholeCard)
				if e.Capacity != nil {
					if q, ok := e.Capacity.Requests[GPUMilliCapacity]; ok {
						milli = q.Value()
					}
				}
				s.Milli = max(s.Milli, milli)
				if c := l.classes[e.DeviceClassName]; c != nil {
					for _, sel := range c.Spec.Selectors {
						if sel.CEL != nil {
							s.selectors = append(s.selectors, sel.CEL.Expression)
						}
					}
				}
				for _, sel := range e.Selectors {
					if sel.CEL != nil {
						s.selectors = append(s.selectors, sel.CEL.Expression)
					}
				}
			}
		}
		if s.Cards == 0 {
			return
		}
		slices.Sort(s.selectors)
		s.selectors = slices.Compact(s.selectors)
	case g.pooled > 0:
		s.Cards, s.Milli, s.pooledType = 1, g.pooled, l.poolType
	case g.whole > 0:
		s.Cards, s.Milli, s.pooledType = g.whole, wholeCard, l.wholeType
	default:
		return
	}
	key := fmt.Sprintf("%d|%d|%d|%d|%t|%d|%s|%s|%v", s.CPU, s.Memory, s.Cards, s.Milli, s.dra, s.pooledType,
		strings.Join(s.selectors, "\x00"), nodeAffinityKey(p), p.Spec.NodeSelector)
	if i, ok := l.shapeIndex[key]; ok {
		l.shapes[i].Pods++
		return
	}
	s.Pods = 1
	l.shapeIndex[key] = int32(len(l.shapes))
	l.shapes = append(l.shapes, &s)
}

// nodeAffinityKey tells required node affinities apart (the shape key; fmt prints a map in
// key order).
func nodeAffinityKey(p *corev1.Pod) string {
	if p.Spec.Affinity == nil || p.Spec.Affinity.NodeAffinity == nil || p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	return p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.String()
}

// claimSpec is the spec of the claim a pod's entry names: its template's, or the named claim's.
func (l *gpuLog) claimSpec(ns string, pc corev1.PodResourceClaim) *resourcev1.ResourceClaimSpec {
	switch {
	case pc.ResourceClaimTemplateName != nil:
		if t := l.templates[objectKey{namespace: ns, name: *pc.ResourceClaimTemplateName}]; t != nil {
			return &t.Spec.Spec
		}
	case pc.ResourceClaimName != nil:
		if c := l.claimSpecs[objectKey{namespace: ns, name: *pc.ResourceClaimName}]; c != nil {
			return &c.Spec
		}
	}
	return nil
}

// record is the log for analysis: the shapes with where each may run. nil when no node ever
// had a GPU.
func (l *gpuLog) record() *analysis.GPURecord {
	if len(l.changes) == 0 {
		return nil
	}
	rec := &analysis.GPURecord{Changes: l.changes, Unresolved: l.unresolved}
	switch {
	case l.dra && l.pooled:
		rec.Model = "mixed"
	case l.dra:
		rec.Model = "dra"
	default:
		rec.Model = "pooled"
	}
	nodes := make([]*corev1.Node, len(l.nodes))
	for i, n := range l.nodes {
		rec.Nodes = append(rec.Nodes, n.name)
		nodes[i] = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: n.labels}}
	}
	matches := l.selectorMatches()
	for _, s := range l.shapes {
		out := s.GPUShape
		out.NodeOK = make([]bool, len(nodes))
		aff := nodeaffinity.GetRequiredNodeAffinity(s.pod)
		for i, n := range nodes {
			ok, err := aff.Match(n)
			out.NodeOK[i] = ok && err == nil
		}
		out.TypeOK = make([]bool, len(l.types))
		for t := range l.types {
			switch {
			case !s.dra:
				out.TypeOK[t] = int32(t) == s.pooledType
			case int32(t) == l.poolType || int32(t) == l.wholeType:
			default:
				out.TypeOK[t] = true
				for _, sel := range s.selectors {
					out.TypeOK[t] = out.TypeOK[t] && matches(sel, t)
				}
			}
		}
		rec.Shapes = append(rec.Shapes, out)
	}
	return rec
}

// selectorMatches evaluates CEL device selectors with the DRA library the scheduler uses, each
// expression compiled once and evaluated once per card type. An expression that does not
// compile or fails on a card matches nothing there, as the allocator treats it.
func (l *gpuLog) selectorMatches() func(expr string, typ int) bool {
	compiler := dracel.GetCompiler(dracel.Features{EnableConsumableCapacity: true})
	compiled := map[string]dracel.CompilationResult{}
	cache := map[string][]int8{}
	return func(expr string, typ int) bool {
		got := cache[expr]
		if got == nil {
			got = make([]int8, len(l.types))
			cache[expr] = got
		}
		if got[typ] == 0 {
			c, ok := compiled[expr]
			if !ok {
				c = compiler.CompileCELExpression(expr, dracel.Options{})
				compiled[expr] = c
			}
			got[typ] = -1
			if c.Error == nil {
				t := l.types[typ]
				d := dracel.Device{Driver: t.driver, AllowMultipleAllocations: t.device.AllowMultipleAllocations,
					Attributes: t.device.Attributes, Capacity: t.device.Capacity}
				if ok, _, err := c.DeviceMatches(context.Background(), d); ok && err == nil {
					got[typ] = 1
				}
			}
		}
		return got[typ] == 1
	}
}
