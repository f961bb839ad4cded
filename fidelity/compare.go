package fidelity

import (
	"fmt"
	"strconv"
	"strings"
)

// Finding is the outcome of one figure of one check.
type Finding struct {
	Scenario string
	// Check is the check's index in scenario.yaml's checks, Title its kind and parameters.
	Check int
	Title string
	// Figure names what was compared ("pods per zone", "zone-a", "lastRunning").
	Figure string
	// Real is the real cluster's value (exact checks) or its recorded spread widened by the
	// tolerance (tolerance checks); Kwoksim is kwoksim's value.
	Real    string
	Kwoksim string
	Agree   bool
	// Known is the check's known difference, if it has one.
	Known string
	// Note explains a disagreement (the first step that differs, the real runs differing
	// among themselves).
	Note string
}

// Failed tells whether the finding fails the comparison: a disagreement not marked known.
func (f Finding) Failed() bool { return !f.Agree && f.Known == "" }

func (f Finding) String() string {
	verdict := "agrees"
	if !f.Agree {
		verdict = "DIFFERS"
	}
	s := fmt.Sprintf("%s: checks[%d] %s: %s: real %s, kwoksim %s: %s", f.Scenario, f.Check, f.Title, f.Figure, f.Real, f.Kwoksim, verdict)
	if f.Note != "" {
		s += " (" + f.Note + ")"
	}
	if f.Known != "" {
		s += "; known: " + f.Known
	}
	return s
}

// Compare evaluates sc's checks on the real cluster's observation (every run) and kwoksim's
// (its first run), in the order of the checks.
func Compare(sc *Scenario, real, kwoksim Observation) []Finding {
	var out []Finding
	for i := range sc.Checks {
		c := &sc.Checks[i]
		base := Finding{Scenario: sc.Name, Check: i, Title: c.Title(), Known: c.Known}
		if len(real.Runs) == 0 || len(kwoksim.Runs) == 0 {
			f := base
			f.Figure, f.Real, f.Kwoksim = "runs", strconv.Itoa(len(real.Runs)), strconv.Itoa(len(kwoksim.Runs))
			f.Note = "an observation without runs cannot be compared"
			out = append(out, f)
			continue
		}
		for _, f := range evaluate(sc, c, real.Runs, kwoksim.Runs[0]) {
			g := base
			g.Figure, g.Real, g.Kwoksim, g.Agree, g.Note = f.Figure, f.Real, f.Kwoksim, f.Agree, f.Note
			out = append(out, g)
		}
	}
	return out
}

// evaluate computes one check's findings (without the scenario and check fields).
func evaluate(sc *Scenario, c *Check, real []Run, kw Run) []Finding {
	switch c.Check {
	case CheckPlacement:
		per := func(r Run) counts { return placement(sc, c.By, podsAtEnd(r, c.Owner)) }
		fig := "pods per " + strings.TrimPrefix(c.By, "label:")
		if c.By == "histogram" {
			fig = "nodes × pods on each"
		}
		return []Finding{exactCounts(fig, mapRuns(real, per), per(kw))}
	case CheckUnschedulable:
		count := func(r Run) string { return strconv.Itoa(len(unschedulable(r, c.Owner))) }
		msgs := func(r Run) counts {
			m := counts{}
			for _, p := range unschedulable(r, c.Owner) {
				m[p.Unschedulable]++
			}
			return m
		}
		return []Finding{
			exact("unschedulable pods", mapRuns(real, count), count(kw), ""),
			exactCounts("messages", mapRuns(real, msgs), msgs(kw)),
		}
	case CheckNames:
		names := func(r Run) string { return strings.Join(ownedWorkloads(r, c.Owner), ", ") }
		return []Finding{exact("owned workloads", mapRuns(real, names), names(kw), "")}
	case CheckRollout:
		fig := "spec.replicas steps"
		steps := func(r Run) []string {
			s, _, _ := rolloutSteps(r, c.Owner)
			if c.Steps != nil && len(s) > *c.Steps {
				s = s[:*c.Steps]
			}
			return s
		}
		if c.Steps != nil {
			fig = fmt.Sprintf("first %d spec.replicas steps", *c.Steps)
		}
		most := func(r Run) string {
			_, m, _ := rolloutSteps(r, c.Owner)
			return strconv.Itoa(int(m))
		}
		last := func(r Run) string {
			_, _, l := rolloutSteps(r, c.Owner)
			return strings.Join(l, ", ")
		}
		return []Finding{
			exactSteps(fig, mapRuns(real, steps), steps(kw)),
			exact("most replicas wanted at once", mapRuns(real, most), most(kw), ""),
			exact("last replicas", mapRuns(real, last), last(kw), ""),
		}
	case CheckPods:
		total := func(r Run) string { return strconv.Itoa(len(podsOf(r, c.Owner))) }
		phases := func(r Run) counts {
			m := counts{}
			for _, p := range podsOf(r, c.Owner) {
				m[endPhase(r, p)]++
			}
			return m
		}
		return []Finding{
			exact("pods in all", mapRuns(real, total), total(kw), ""),
			exactCounts("pods by phase at the end", mapRuns(real, phases), phases(kw)),
		}
	case CheckEvictions:
		ev := func(r Run) counts {
			m := counts{}
			for _, p := range podsOf(r, c.Owner) {
				if p.EvictionReason != "" {
					m[p.EvictionReason]++
				}
			}
			return m
		}
		return []Finding{exactCounts("evicted pods by reason", mapRuns(real, ev), ev(kw))}
	case CheckNodeHistory:
		since := 0.0
		if c.Since != nil {
			since = seconds(c.Since.Duration)
		}
		hist := func(r Run) []string { return nodeStates(r, c.Node, since) }
		return []Finding{exactSteps("(Ready, taints) states", mapRuns(real, hist), hist(kw))}
	case CheckSizes:
		peak := func(r Run) string {
			w := workloadNamed(r, c.Workload)
			if w == nil || len(w.Sizes) == 0 {
				return ""
			}
			x := int32(0)
			for _, s := range w.Sizes {
				x = max(x, s.Current)
			}
			return strconv.Itoa(int(x))
		}
		last := func(r Run) string {
			w := workloadNamed(r, c.Workload)
			if w == nil || len(w.Sizes) == 0 {
				return ""
			}
			s := w.Sizes[len(w.Sizes)-1]
			return fmt.Sprintf("%d/%d/%d", s.Replicas, s.Current, s.Ready)
		}
		return []Finding{
			exact("most pods at once", mapRuns(real, peak), peak(kw), ""),
			exact("last replicas/current/ready", mapRuns(real, last), last(kw), ""),
		}
	case CheckDistribution:
		return distribution(sc, c, real, kw)
	case CheckHPA:
		return hpaCheck(c, real, kw)
	case CheckTiming:
		at := func(r Run) *float64 { return timing(c, r) }
		return []Finding{within(c.Of, mapRuns(real, at), at(kw), seconds(c.Tolerance.Duration))}
	}
	return []Finding{{Figure: "check", Real: "-", Kwoksim: "-", Note: "unknown check " + c.Check}}
}

// distribution compares, with the real runs' spread, the most pods of the owner on one node,
// the nodes it uses, and with by, its pods per domain.
func distribution(sc *Scenario, c *Check, real []Run, kw Run) []Finding {
	tol := *c.CountTolerance
	perNode := func(r Run) counts { return placement(sc, "node", podsAtEnd(r, c.Owner)) }
	maxOf := func(m counts) int {
		x := 0
		for _, v := range m {
			x = max(x, v)
		}
		return x
	}
	rn, kn := mapRuns(real, perNode), perNode(kw)
	out := []Finding{
		withinCount("most pods on a node", mapSlice(rn, maxOf), maxOf(kn), tol),
		withinCount("nodes used", mapSlice(rn, func(m counts) int { return len(m) }), len(kn), tol),
	}
	if c.By == "" {
		return out
	}
	per := func(r Run) counts { return placement(sc, c.By, podsAtEnd(r, c.Owner)) }
	rd, kd := mapRuns(real, per), per(kw)
	domains := counts{}
	for _, m := range append(rd, kd) {
		for k := range m {
			domains[k] = 0
		}
	}
	for _, d := range domains.keys() {
		out = append(out, withinCount("pods in "+d, mapSlice(rd, func(m counts) int { return m[d] }), kd[d], tol))
	}
	return out
}
