package fidelity

import (
	"fmt"
	"io"
	"math"
	"sort"
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
	case CheckTiming:
		at := func(r Run) *float64 { return timing(c, r) }
		return []Finding{within(c.Of, mapRuns(real, at), at(kw), seconds(c.Tolerance.Duration))}
	}
	return []Finding{{Figure: "check", Real: "-", Kwoksim: "-", Note: "unknown check " + c.Check}}
}

func mapRuns[T any](runs []Run, f func(Run) T) []T {
	out := make([]T, len(runs))
	for i, r := range runs {
		out[i] = f(r)
	}
	return out
}

// exact compares kwoksim's value with every real run's: they must all be equal.
func exact(figure string, real []string, kw, note string) Finding {
	f := Finding{Figure: figure, Kwoksim: orNone(kw)}
	if v, same := allSame(real); same {
		f.Real, f.Agree = orNone(v), kw == v
		if !f.Agree {
			f.Note = note
		}
		return f
	}
	parts := make([]string, len(real))
	for i, v := range real {
		parts[i] = fmt.Sprintf("run %d: %s", i+1, orNone(v))
	}
	f.Real = strings.Join(parts, "; ")
	f.Note = "the real runs differ among themselves: an exact check cannot hold; compare within their spread instead"
	return f
}

func allSame(vs []string) (string, bool) {
	for _, v := range vs[1:] {
		if v != vs[0] {
			return "", false
		}
	}
	return vs[0], true
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// counts are pods (or nodes) per key.
type counts map[string]int

// String lists the counts by key, "key=n", abbreviated after maxShown keys.
func (m counts) String() string { return m.format(math.MaxInt) }

const maxShown = 12

func (m counts) format(limit int) string {
	keys := m.keys()
	var parts []string
	for i, k := range keys {
		if i == limit {
			parts = append(parts, fmt.Sprintf("… (%d more)", len(keys)-limit))
			break
		}
		// A key with spaces (a scheduler message, "1 pod") reads better after its count.
		if strings.Contains(k, " ") {
			parts = append(parts, strconv.Itoa(m[k])+" × "+k)
		} else {
			parts = append(parts, k+"="+strconv.Itoa(m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func (m counts) keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return naturalLess(keys[i], keys[j]) })
	return keys
}

// naturalLess orders "node-2" before "node-10", and "2 pods" before "10 pods".
func naturalLess(a, b string) bool {
	if la, ra, ok := leadingNumber(a); ok {
		if lb, rb, ok := leadingNumber(b); ok && ra == rb && la != lb {
			return la < lb
		}
	}
	ta, na := splitTrailingNumber(a)
	tb, nb := splitTrailingNumber(b)
	if ta != tb || na < 0 || nb < 0 {
		return a < b
	}
	if na != nb {
		return na < nb
	}
	return a < b
}

// leadingNumber splits "10 pods" into 10 and "pods" (a trailing s dropped, so that "1 pod"
// and "2 pods" compare by number).
func leadingNumber(s string) (int, string, bool) {
	num, rest, ok := strings.Cut(s, " ")
	n, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0, "", false
	}
	return n, strings.TrimSuffix(rest, "s"), true
}

func splitTrailingNumber(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) {
		return s, -1
	}
	n, err := strconv.Atoi(s[i:])
	if err != nil {
		return s, -1
	}
	return s[:i], n
}

// exactCounts is exact on counts, shown abbreviated; a disagreement notes the keys that differ.
func exactCounts(figure string, real []counts, kw counts) Finding {
	full := make([]string, len(real))
	for i, m := range real {
		full[i] = m.String()
	}
	f := exact(figure, full, kw.String(), "")
	// Show long values abbreviated; the note lists what differs.
	if _, same := allSame(full); same {
		f.Real = orNone(real[0].format(maxShown))
		f.Kwoksim = orNone(kw.format(maxShown))
		if !f.Agree {
			f.Note = countsDiff(real[0], kw)
		}
	}
	return f
}

// countsDiff lists the keys whose counts differ, "key: real a, kwoksim b".
func countsDiff(real, kw counts) string {
	all := counts{}
	for k := range real {
		all[k] = 0
	}
	for k := range kw {
		all[k] = 0
	}
	var parts []string
	for _, k := range all.keys() {
		if real[k] != kw[k] {
			parts = append(parts, fmt.Sprintf("%s: real %d, kwoksim %d", k, real[k], kw[k]))
		}
	}
	if len(parts) > maxShown {
		parts = append(parts[:maxShown], fmt.Sprintf("… (%d more)", len(parts)-maxShown))
	}
	return "differs at " + strings.Join(parts, "; ")
}

// exactSteps is exact on sequences; a disagreement notes the first step that differs.
func exactSteps(figure string, real [][]string, kw []string) Finding {
	join := func(s []string) string { return strings.Join(s, " → ") }
	f := exact(figure, mapSlice(real, join), join(kw), "")
	if !f.Agree {
		if _, same := allSame(mapSlice(real, join)); same {
			f.Note = firstDifference(real[0], kw)
		}
	}
	return f
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func firstDifference(real, kw []string) string {
	for i := 0; i < len(real) || i < len(kw); i++ {
		r, k := "(end)", "(end)"
		if i < len(real) {
			r = real[i]
		}
		if i < len(kw) {
			k = kw[i]
		}
		if r != k {
			return fmt.Sprintf("step %d: real %s, kwoksim %s", i+1, r, k)
		}
	}
	return ""
}

// within compares kwoksim's time with the real runs' min..max widened by tol (seconds). A time
// that never came is "never": it agrees only with runs in which it never came either.
func within(figure string, real []*float64, kw *float64, tol float64) Finding {
	f := Finding{Figure: figure, Kwoksim: fmtTime(kw)}
	never := 0
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range real {
		if v == nil {
			never++
			continue
		}
		lo, hi = math.Min(lo, *v), math.Max(hi, *v)
	}
	switch {
	case never == len(real):
		f.Real, f.Agree = "never", kw == nil
		return f
	case never > 0:
		f.Real = fmt.Sprintf("%s..%s s, never in %d of %d runs", fmtSeconds(lo), fmtSeconds(hi), never, len(real))
		f.Note = "the real runs differ on whether it happens"
		return f
	}
	f.Real = fmt.Sprintf("%s..%s s ±%s", fmtSeconds(lo), fmtSeconds(hi), fmtSeconds(tol))
	if lo == hi {
		f.Real = fmt.Sprintf("%s s ±%s", fmtSeconds(lo), fmtSeconds(tol))
	}
	f.Agree = kw != nil && *kw >= lo-tol && *kw <= hi+tol
	if !f.Agree && kw != nil {
		f.Note = fmt.Sprintf("outside %s..%s s", fmtSeconds(lo-tol), fmtSeconds(hi+tol))
	}
	return f
}

// withinCount compares a count with the real runs' min..max widened by tol.
func withinCount(figure string, real []int, kw, tol int) Finding {
	lo, hi := real[0], real[0]
	for _, v := range real[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	f := Finding{Figure: figure, Kwoksim: strconv.Itoa(kw), Agree: kw >= lo-tol && kw <= hi+tol}
	f.Real = fmt.Sprintf("%d..%d ±%d", lo, hi, tol)
	if lo == hi {
		f.Real = fmt.Sprintf("%d ±%d", lo, tol)
	}
	if !f.Agree {
		f.Note = fmt.Sprintf("outside %d..%d", lo-tol, hi+tol)
	}
	return f
}

func fmtTime(v *float64) string {
	if v == nil {
		return "never"
	}
	return fmtSeconds(*v) + " s"
}

// fmtSeconds prints seconds to the millisecond, without trailing zeros.
func fmtSeconds(v float64) string { return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64) }

// ownerIndex maps "Kind/name" of each workload to its owner, for walking up a pod's owners.
func ownerIndex(r Run) map[string]string {
	m := make(map[string]string, len(r.Workloads))
	for _, w := range r.Workloads {
		m[w.Kind+"/"+w.Name] = w.Owner
	}
	return m
}

// ownedBy tells whether owner is ref or one of its owners (a Deployment owns its ReplicaSets'
// pods). The suite runs in one namespace, so "Kind/name" is unique.
func ownedBy(up map[string]string, ref, owner string) bool {
	for depth := 0; ref != "" && depth < 8; depth++ {
		if ref == owner {
			return true
		}
		ref = up[ref]
	}
	return false
}

// podsOf are the pods of owner during the run ("" for all pods), in name order.
func podsOf(r Run, owner string) []Pod {
	up := ownerIndex(r)
	var out []Pod
	for _, p := range r.Pods {
		if owner == "" || ownedBy(up, p.Owner, owner) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name })
	return out
}

// gone tells whether the pod was gone by the end of the run.
func gone(r Run, p Pod) bool { return p.Gone != nil && *p.Gone <= r.Duration }

// podsAtEnd are the pods of owner that still existed at the end of the run.
func podsAtEnd(r Run, owner string) []Pod {
	var out []Pod
	for _, p := range podsOf(r, owner) {
		if !gone(r, p) {
			out = append(out, p)
		}
	}
	return out
}

func endPhase(r Run, p Pod) string {
	if gone(r, p) || p.Phase == "" {
		return "gone"
	}
	return p.Phase
}

// unschedulable are the owner's pods unbound at the end with a scheduler message.
func unschedulable(r Run, owner string) []Pod {
	var out []Pod
	for _, p := range podsAtEnd(r, owner) {
		if p.Node == "" && p.Unschedulable != "" {
			out = append(out, p)
		}
	}
	return out
}

// placement counts bound pods per domain: per zone, node or node label, or (histogram) the
// nodes holding each number of pods. A node without the label counts under "<none>".
func placement(sc *Scenario, by string, pods []Pod) counts {
	perNode := counts{}
	for _, p := range pods {
		if p.Node != "" {
			perNode[p.Node]++
		}
	}
	switch by {
	case "node":
		return perNode
	case "histogram":
		h := counts{}
		for _, n := range perNode {
			if n == 1 {
				h["1 pod"]++
			} else {
				h[fmt.Sprintf("%d pods", n)]++
			}
		}
		return h
	}
	key := "topology.kubernetes.io/zone"
	if by != "zone" {
		key = strings.TrimPrefix(by, "label:")
	}
	out := counts{}
	for node, n := range perNode {
		v, ok := sc.NodeLabels[node][key]
		if !ok {
			v = "<none>"
		}
		out[v] += n
	}
	return out
}

// workloadNamed is the workload "Kind/name" of r, nil if there is none.
func workloadNamed(r Run, ref string) *Workload {
	for i, w := range r.Workloads {
		if w.Kind+"/"+w.Name == ref {
			return &r.Workloads[i]
		}
	}
	return nil
}

// ownedWorkloads are the workloads owner owns directly, as sorted "Kind/name".
func ownedWorkloads(r Run, owner string) []string {
	var out []string
	for _, w := range r.Workloads {
		if w.Owner == owner {
			out = append(out, w.Kind+"/"+w.Name)
		}
	}
	sort.Strings(out)
	return out
}

// rolloutSteps merges the spec.replicas changes of the Deployment's ReplicaSets in the order
// they happened, each as "<which> <replicas>": "new" is the ReplicaSet created last, "old" the
// one before (with more, "old1", "old2", … in order of creation). most is the largest sum of
// their spec.replicas after a step, last their last spec.replicas, as "old 0", "new 10".
func rolloutSteps(r Run, owner string) (out []string, most int32, last []string) {
	type step struct {
		at       float64
		seq      int64
		rs       int
		replicas int32
	}
	var sets []Workload
	for _, w := range r.Workloads {
		if w.Kind == "ReplicaSet" && w.Owner == owner && len(w.Sizes) > 0 {
			sets = append(sets, w)
		}
	}
	less := func(a, b Size) bool { return a.At < b.At || a.At == b.At && a.Seq < b.Seq }
	sort.SliceStable(sets, func(i, j int) bool { return less(sets[i].Sizes[0], sets[j].Sizes[0]) })
	var steps []step
	for i, w := range sets {
		for j, s := range w.Sizes {
			if j > 0 && s.Replicas == w.Sizes[j-1].Replicas {
				continue
			}
			steps = append(steps, step{s.At, s.Seq, i, s.Replicas})
		}
	}
	sort.SliceStable(steps, func(i, j int) bool {
		return less(Size{At: steps[i].at, Seq: steps[i].seq}, Size{At: steps[j].at, Seq: steps[j].seq})
	})
	label := func(i int) string {
		switch {
		case i == len(sets)-1:
			return "new"
		case len(sets) == 2:
			return "old"
		}
		return "old" + strconv.Itoa(i+1)
	}
	cur := make([]int32, len(sets))
	for _, s := range steps {
		out = append(out, fmt.Sprintf("%s %d", label(s.rs), s.replicas))
		cur[s.rs] = s.replicas
		sum := int32(0)
		for _, v := range cur {
			sum += v
		}
		most = max(most, sum)
	}
	for i, v := range cur {
		last = append(last, fmt.Sprintf("%s %d", label(i), v))
	}
	return out, most, last
}

// nodeStates are the node's (Ready, taints) states: the one in effect at since, then each
// later one, consecutive repeats merged.
func nodeStates(r Run, name string, since float64) []string {
	var n *Node
	for i := range r.Nodes {
		if r.Nodes[i].Name == name {
			n = &r.Nodes[i]
		}
	}
	if n == nil {
		return nil
	}
	state := func(c NodeChange) string {
		ready := c.Ready
		if ready == "" {
			ready = "absent"
		}
		taints := append([]string(nil), c.Taints...)
		sort.Strings(taints)
		return fmt.Sprintf("Ready %s [%s]", ready, strings.Join(taints, " "))
	}
	var out []string
	add := func(s string) {
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	first := -1
	for i, c := range n.Changes {
		if c.At <= since {
			first = i
		}
	}
	if first >= 0 {
		add(state(n.Changes[first]))
	}
	for _, c := range n.Changes[first+1:] {
		add(state(c))
	}
	if n.Deleted != nil {
		add("deleted")
	}
	return out
}

// timing is the time a timing check reads in r, nil if it never came.
func timing(c *Check, r Run) *float64 {
	since := math.Inf(-1)
	if c.Since != nil {
		since = seconds(c.Since.Duration)
	}
	switch c.Of {
	case "taint", "ready", "nodeDeleted":
		var n *Node
		for i := range r.Nodes {
			if r.Nodes[i].Name == c.Node {
				n = &r.Nodes[i]
			}
		}
		if n == nil {
			return nil
		}
		if c.Of == "nodeDeleted" {
			return n.Deleted
		}
		has := func(ch NodeChange) bool {
			if c.Of == "ready" {
				return ch.Ready == c.Status
			}
			for _, t := range ch.Taints {
				if t == c.Taint {
					return true
				}
			}
			return false
		}
		for i, ch := range n.Changes {
			if has(ch) && (i == 0 || !has(n.Changes[i-1])) && ch.At >= since {
				at := ch.At
				return &at
			}
		}
		return nil
	}
	last, event, _ := splitPodFigure(c.Of)
	get := podEvents[event]
	var best *float64
	for _, p := range podsOf(r, c.Owner) {
		if c.Node != "" && p.Node != c.Node {
			continue
		}
		if p.Created == nil || *p.Created < since {
			continue
		}
		v := get(p)
		if v == nil || *v > r.Duration {
			continue
		}
		if best == nil || last && *v > *best || !last && *v < *best {
			x := *v
			best = &x
		}
	}
	return best
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

// ScenarioResult is one scenario's findings for the results table; Missing says why it has
// none (no recording yet).
type ScenarioResult struct {
	Scenario    string
	Description string
	Missing     string
	Findings    []Finding
}

// WriteResults writes the findings as a Markdown document: a summary per scenario, then
// every finding in a table. It depends on nothing but its input.
func WriteResults(w io.Writer, results []ScenarioResult) error {
	var b strings.Builder
	b.WriteString("# Fidelity: kwoksim compared with a real cluster\n\n")
	b.WriteString("Generated by `go test ./workloads -run TestFidelity -args -update-fidelity` from\n")
	b.WriteString("testdata/fidelity/*/observed.json (the real cluster, `make record-real`) and kwoksim's run of\n")
	b.WriteString("the same scenario (seed 1). Exact checks must equal every real run; tolerance checks must fall\n")
	b.WriteString("within the real runs' min..max widened by the stated tolerance. A `known` difference is\n")
	b.WriteString("reported but does not fail the test.\n\n")
	b.WriteString("| Scenario | Figures | Agree | Differ (known) | Differ |\n|---|---|---|---|---|\n")
	for _, r := range results {
		if r.Missing != "" {
			fmt.Fprintf(&b, "| %s | %s | | | |\n", r.Scenario, cell(r.Missing))
			continue
		}
		agree, known, failed := 0, 0, 0
		for _, f := range r.Findings {
			switch {
			case f.Agree:
				agree++
			case f.Known != "":
				known++
			default:
				failed++
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d |\n", r.Scenario, len(r.Findings), agree, known, failed)
	}
	for _, r := range results {
		fmt.Fprintf(&b, "\n## %s\n\n", r.Scenario)
		if r.Description != "" {
			fmt.Fprintf(&b, "%s\n\n", r.Description)
		}
		if r.Missing != "" {
			fmt.Fprintf(&b, "%s\n", r.Missing)
			continue
		}
		b.WriteString("| # | Check | Figure | Real | kwoksim | Result |\n|---|---|---|---|---|---|\n")
		for _, f := range r.Findings {
			res := "agrees"
			switch {
			case !f.Agree && f.Known != "":
				res = "differs (known: " + f.Known + ")"
			case !f.Agree:
				res = "**DIFFERS**"
			case f.Known != "":
				res = "agrees, though marked known: " + f.Known
			}
			if f.Note != "" && !f.Agree {
				res += "; " + f.Note
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s |\n", f.Check, cell(f.Title), cell(f.Figure), cell(f.Real), cell(f.Kwoksim), cell(res))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell escapes a table cell: a "|" would end it, a newline the row.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
