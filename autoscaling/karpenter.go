package autoscaling

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// Karpenter's NodePool disruption settings (sigs.k8s.io/karpenter v1.15.0,
// pkg/apis/v1/nodepool.go, Disruption and Budget): kwoksim reads them from a pool's
// spec.disruption. cluster-autoscaler ignores them.

// Consolidation policies (nodepool.go, ConsolidationPolicy). Balanced is refused as not modelled.
const (
	ConsolidationWhenEmpty                = "WhenEmpty"
	ConsolidationWhenEmptyOrUnderutilized = "WhenEmptyOrUnderutilized"
)

// Disruption reasons a budget may be limited to (nodepool.go, DisruptionReason). Drifted and
// Unhealthy are accepted, as upstream does, but no disruption of kwoksim's has them.
const (
	DisruptionEmpty         = "Empty"
	DisruptionUnderutilized = "Underutilized"
	DisruptionDrifted       = "Drifted"
	DisruptionUnhealthy     = "Unhealthy"
)

// DefaultBudgetNodes is the one budget a pool without budgets gets
// (+kubebuilder:default:={{nodes: "10%"}}).
const DefaultBudgetNodes = "10%"

// Disruption is a pool's spec.disruption.
type Disruption struct {
	// ConsolidationPolicy is ConsolidationWhenEmptyOrUnderutilized (the default) or
	// ConsolidationWhenEmpty.
	ConsolidationPolicy string
	// ConsolidateAfter is how long after its last pod event a node may be consolidated; nil
	// is "Never" (no consolidation, emptiness included). It defaults to 0s.
	ConsolidateAfter *time.Duration
	// Budgets limit how many of the pool's nodes may be disrupted at once; at least one
	// (a pool that gives none gets {nodes: "10%"}).
	Budgets []Budget
}

// Budget is one disruption budget: Nodes is a count ("3") or a percentage ("10%") of the
// pool's nodes; Reasons, when given, are the disruption reasons it applies to (else all).
type Budget struct {
	Nodes   string
	Reasons []string
}

// budgetNodesPattern is the Budget.Nodes pattern of the CRD (nodepool.go).
var budgetNodesPattern = regexp.MustCompile(`^((100|[0-9]{1,2})%|[0-9]+)$`)

// AllowedDisruptions is how many of a pool's numNodes nodes the budgets allow to be disrupted
// for the reason: the least over the budgets that apply to it (all reasons when a budget
// lists none), a percentage scaled up (intstr.GetScaledValueFromIntOrPercent with roundUp, so
// 10% of 1..10 nodes is 1); math.MaxInt32 when no budget applies. It follows
// NodePool.GetAllowedDisruptionsByReason and Budget.GetAllowedDisruptions; budgets are always
// active (schedules are refused at decoding). The caller subtracts the nodes already being
// disrupted (BuildDisruptionBudgetMapping).
func (d Disruption) AllowedDisruptions(reason string, numNodes int) int {
	allowed := math.MaxInt32
	for _, b := range d.Budgets {
		if len(b.Reasons) > 0 && !slices.Contains(b.Reasons, reason) {
			continue
		}
		v := intstr.Parse(b.Nodes)
		n, err := intstr.GetScaledValueFromIntOrPercent(&v, numNodes, true)
		if err != nil {
			n = 0 // fail closed, as upstream does; decoding has checked the form
		}
		allowed = min(allowed, n)
	}
	return allowed
}

// Cheapest is the cheapest of the named shapes of the pool, ties by name: the instance type a
// NodeClaim launches as (the fake cloud provider's Create takes the cheapest compatible
// offering, pkg/cloudprovider/fake/cloudprovider.go; OrderByPrice leaves ties unordered, so
// kwoksim breaks them by name). "" when names is empty.
func (p *NodePool) Cheapest(names []string) string {
	best := ""
	for _, n := range names {
		s := p.Shape(n)
		if s == nil {
			continue
		}
		if best == "" {
			best = n
			continue
		}
		b := p.Shape(best)
		if s.PricePerHour < b.PricePerHour || (s.PricePerHour == b.PricePerHour && n < best) {
			best = n
		}
	}
	return best
}

// CompareWeight orders pools as Karpenter tries them for a new NodeClaim: higher spec.weight
// first (nodepoolutils.OrderByWeight; it sorts with sort.Slice, so kwoksim breaks ties by name).
func CompareWeight(a, b *NodePool) int {
	if a.Spec.Weight != b.Spec.Weight {
		return cmp.Compare(b.Spec.Weight, a.Spec.Weight)
	}
	return cmp.Compare(a.Name, b.Name)
}

// disruption defaults and checks spec.disruption as Karpenter's CRD does (nodepool.go: the
// enum, the patterns and the defaults). Budget schedules are refused: kwoksim does not model
// cron windows, and an always-active budget in their place would be silently wrong.
func (v *validator) disruption(path string, w *wireDisruption) Disruption {
	d := Disruption{ConsolidationPolicy: w.ConsolidationPolicy}
	switch w.ConsolidationPolicy {
	case "":
		d.ConsolidationPolicy = ConsolidationWhenEmptyOrUnderutilized
	case ConsolidationWhenEmpty, ConsolidationWhenEmptyOrUnderutilized:
	case "Balanced":
		v.add(path+".consolidationPolicy", `"Balanced" is not modelled by kwoksim (use WhenEmpty or WhenEmptyOrUnderutilized)`)
	default:
		v.add(path+".consolidationPolicy", fmt.Sprintf(`Unsupported value: %q: supported values: "WhenEmpty", "WhenEmptyOrUnderutilized"`, w.ConsolidationPolicy))
	}
	zero := time.Duration(0)
	d.ConsolidateAfter = &zero
	if raw := w.ConsolidateAfter; len(raw) > 0 && string(raw) != "null" {
		var s string
		if json.Unmarshal(raw, &s) == nil && s == "Never" {
			d.ConsolidateAfter = nil
		} else if after := v.duration(path+".consolidateAfter", raw, -1); after >= 0 {
			d.ConsolidateAfter = &after
		}
	}
	for i, b := range w.Budgets {
		p := fmt.Sprintf("%s.budgets[%d]", path, i)
		if b.Schedule != nil || b.Duration != nil {
			v.add(p, "schedule and duration are not modelled by kwoksim: a budget is always active (a real cluster applies it only inside its cron window)")
		}
		if !budgetNodesPattern.MatchString(b.Nodes) {
			v.add(p+".nodes", fmt.Sprintf(`must be a count ("3") or a percentage up to 100%% ("10%%"), not %q`, b.Nodes))
		}
		for j, r := range b.Reasons {
			switch r {
			case DisruptionEmpty, DisruptionUnderutilized, DisruptionDrifted, DisruptionUnhealthy:
			default:
				v.add(fmt.Sprintf("%s.reasons[%d]", p, j), fmt.Sprintf(`Unsupported value: %q: supported values: "Empty", "Underutilized", "Drifted", "Unhealthy"`, r))
			}
		}
		d.Budgets = append(d.Budgets, Budget{Nodes: b.Nodes, Reasons: b.Reasons})
	}
	if len(w.Budgets) == 0 {
		d.Budgets = []Budget{{Nodes: DefaultBudgetNodes}}
	}
	return d
}
