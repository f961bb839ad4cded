package fidelity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Check is one comparison of a scenario (scenario.yaml's checks: list). Check names its kind;
// the other fields are that kind's parameters (each kind's doc below says which it takes; a
// field a kind does not take is an error, so that a typo does not silently change a check).
//
// Exact kinds must agree with every real run, and the real runs with each other (a figure the
// real cluster varies in belongs in a tolerance kind, and the finding says so):
//
//	placement     owner, by: pods of the owner at the end, counted per domain: by "zone"
//	              (topology.kubernetes.io/zone), "node", "label:KEY" (a node label), or
//	              "histogram" (the sorted per-node counts, when node names cannot matter).
//	unschedulable owner: the owner's unbound pods at the end with the scheduler's message:
//	              how many, and the messages with their counts.
//	names         owner: the names of the workloads it owns (a Deployment's ReplicaSets).
//	rollout       owner (a Deployment), steps (optional): its ReplicaSets' spec.replicas
//	              changes merged in the order they happened ((at, seq) within a run), as
//	              "old 10 → new 3 → old 8 → …", only the first steps when given (the later ones
//	              depend on when new pods turn ready between syncs); also the most replicas
//	              its ReplicaSets wanted at once (replicas + maxSurge) and their last sizes.
//	pods          owner: how many pods it had in all, and how many ended in each phase
//	              ("gone" for deleted ones).
//	evictions     owner (optional): evicted pods by their DisruptionTarget reason.
//	nodeHistory   node, since (optional, default 0s): the node's (Ready, taints) states from
//	              the one in effect at since, consecutive repeats merged.
//	sizes         workload (Kind/name, the workload itself): the most pods it had at once
//	              (its largest current count: a Job's active pods, a Deployment's replicas
//	              during a surge) and its last size (replicas/current/ready).
//
// Tolerance kinds compare with the real runs' spread, min..max, widened by a stated tolerance:
//
//	distribution  owner, by (optional: "zone" or "label:KEY"), countTolerance: the most pods
//	              of the owner on one node, the nodes it uses, and with by, its pods per domain.
//	timing        of, tolerance (a duration), and what it times:
//	              of firstX/lastX, X one of Created, Scheduled, Running, DeletionRequested, Gone,
//	              Evicted: the first/last such time over the pods of owner (and/or on node),
//	              only pods created at or after since when given;
//	              of "taint", node, taint ("key=value:Effect"): when the node got the taint
//	              (first change at or after since that adds it);
//	              of "ready", node, status: when the node's Ready condition became status;
//	              of "nodeDeleted", node: when the node was deleted.
//	hpa           hpa (the HPA's name, or namespace/name; namespace default), countTolerance:
//	              the HorizontalPodAutoscaler's events by type and reason (the same set on
//	              both sides, exact) and each one's count (within the real runs' min..max
//	              widened by countTolerance: the real controller's first reconcile comes a few
//	              ms after the HPA's creation and each later one 15 s plus its processing
//	              time after the last, so a tick can fall either side of the end); its final
//	              conditions (type, status, reason), status.currentReplicas and
//	              status.desiredReplicas, and its target's spec.replicas over the run (exact).
//	              Messages are not compared: without a metrics API the real controller's
//	              innermost cause is the apiserver's "the server could not find the requested
//	              resource (get pods.metrics.k8s.io)", kwoksim's "no metrics returned from
//	              resource metrics API", an API that does not exist against one that has
//	              nothing for the pods.
//
// Known, when set, says why kwoksim differs: the check is still evaluated and reported, but a
// disagreement does not fail the test (and an agreement is reported as such, so that a stale
// Known shows).
type Check struct {
	Check          string    `json:"check"`
	Owner          string    `json:"owner,omitempty"`
	Workload       string    `json:"workload,omitempty"`
	By             string    `json:"by,omitempty"`
	Node           string    `json:"node,omitempty"`
	Of             string    `json:"of,omitempty"`
	Taint          string    `json:"taint,omitempty"`
	Status         string    `json:"status,omitempty"`
	Since          *Duration `json:"since,omitempty"`
	Tolerance      *Duration `json:"tolerance,omitempty"`
	CountTolerance *int      `json:"countTolerance,omitempty"`
	Steps          *int      `json:"steps,omitempty"`
	HPA            string    `json:"hpa,omitempty"`
	Known          string    `json:"known,omitempty"`
}

// Checks is scenario.yaml's checks: list. It decodes each check strictly and validates it, so
// that an error names the check's index and kind.
type Checks []Check

// Kinds of check.
const (
	CheckPlacement     = "placement"
	CheckUnschedulable = "unschedulable"
	CheckNames         = "names"
	CheckRollout       = "rollout"
	CheckPods          = "pods"
	CheckEvictions     = "evictions"
	CheckNodeHistory   = "nodeHistory"
	CheckSizes         = "sizes"
	CheckDistribution  = "distribution"
	CheckTiming        = "timing"
	CheckHPA           = "hpa"
)

// params lists, per kind, the fields it requires and those it may have (besides check and
// known).
var params = map[string]struct{ required, optional []string }{
	CheckPlacement:     {required: []string{"owner", "by"}},
	CheckUnschedulable: {required: []string{"owner"}},
	CheckNames:         {required: []string{"owner"}},
	CheckRollout:       {required: []string{"owner"}, optional: []string{"steps"}},
	CheckPods:          {required: []string{"owner"}},
	CheckEvictions:     {optional: []string{"owner"}},
	CheckNodeHistory:   {required: []string{"node"}, optional: []string{"since"}},
	CheckSizes:         {required: []string{"workload"}},
	CheckDistribution:  {required: []string{"owner", "countTolerance"}, optional: []string{"by"}},
	CheckTiming:        {required: []string{"of", "tolerance"}, optional: []string{"owner", "node", "taint", "status", "since"}},
	CheckHPA:           {required: []string{"hpa", "countTolerance"}},
}

// kindNames lists the kinds in the order the documentation gives them, for error messages.
var kindNames = []string{CheckPlacement, CheckUnschedulable, CheckNames, CheckRollout, CheckPods, CheckEvictions, CheckNodeHistory, CheckSizes, CheckDistribution, CheckTiming, CheckHPA}

// podEvents are the pod times a timing check reads, by the name used in "of".
var podEvents = map[string]func(Pod) *float64{
	"Created":           func(p Pod) *float64 { return p.Created },
	"Scheduled":         func(p Pod) *float64 { return p.Scheduled },
	"Running":           func(p Pod) *float64 { return p.Running },
	"DeletionRequested": func(p Pod) *float64 { return p.DeletionRequested },
	"Gone":              func(p Pod) *float64 { return p.Gone },
	"Evicted": func(p Pod) *float64 {
		if p.EvictionReason == "" {
			return nil
		}
		return p.DeletionRequested
	},
}

func (cs *Checks) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("checks: want a list of checks: %w", err)
	}
	out := make(Checks, len(raw))
	for i, r := range raw {
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out[i]); err != nil {
			return fmt.Errorf("checks[%d]: %w", i, err)
		}
		if err := out[i].validate(); err != nil {
			return fmt.Errorf("checks[%d] (%s): %w", i, out[i].Check, err)
		}
	}
	*cs = out
	return nil
}

// set lists the parameters c has, by JSON name.
func (c *Check) set() map[string]bool {
	return map[string]bool{
		"owner": c.Owner != "", "workload": c.Workload != "", "by": c.By != "", "node": c.Node != "", "of": c.Of != "",
		"taint": c.Taint != "", "status": c.Status != "", "since": c.Since != nil,
		"tolerance": c.Tolerance != nil, "countTolerance": c.CountTolerance != nil, "steps": c.Steps != nil,
		"hpa": c.HPA != "",
	}
}

func (c *Check) validate() error {
	p, ok := params[c.Check]
	if !ok {
		return fmt.Errorf("check: want one of %s, got %q", strings.Join(kindNames, ", "), c.Check)
	}
	set := c.set()
	allowed := map[string]bool{}
	for _, f := range p.required {
		allowed[f] = true
		if !set[f] {
			return fmt.Errorf("%s: required", f)
		}
	}
	for _, f := range p.optional {
		allowed[f] = true
	}
	for _, f := range []string{"owner", "workload", "by", "node", "of", "taint", "status", "since", "tolerance", "countTolerance", "steps", "hpa"} {
		if set[f] && !allowed[f] {
			return fmt.Errorf("%s: not a parameter of a %s check", f, c.Check)
		}
	}
	if c.Owner != "" {
		if kind, name, ok := strings.Cut(c.Owner, "/"); !ok || kind == "" || name == "" {
			return fmt.Errorf("owner: want Kind/name such as Deployment/web, got %q", c.Owner)
		}
	}
	if c.Workload != "" {
		if kind, name, ok := strings.Cut(c.Workload, "/"); !ok || kind == "" || name == "" {
			return fmt.Errorf("workload: want Kind/name such as Job/batch, got %q", c.Workload)
		}
	}
	if c.HPA != "" {
		if ns, name, ok := strings.Cut(c.HPA, "/"); ok && (ns == "" || name == "" || strings.Contains(name, "/")) {
			return fmt.Errorf("hpa: want name or namespace/name, got %q", c.HPA)
		}
	}
	if c.Check == CheckRollout && !strings.HasPrefix(c.Owner, "Deployment/") {
		return fmt.Errorf("owner: want a Deployment, got %q", c.Owner)
	}
	if c.Tolerance != nil && c.Tolerance.Duration < 0 {
		return fmt.Errorf("tolerance: must not be negative")
	}
	if c.Steps != nil && *c.Steps < 1 {
		return fmt.Errorf("steps: want at least 1")
	}
	if c.CountTolerance != nil && *c.CountTolerance < 0 {
		return fmt.Errorf("countTolerance: must not be negative")
	}
	switch c.Check {
	case CheckPlacement:
		if c.By != "zone" && c.By != "node" && c.By != "histogram" && !isLabelBy(c.By) {
			return fmt.Errorf(`by: want "zone", "node", "histogram" or "label:KEY", got %q`, c.By)
		}
	case CheckDistribution:
		if c.By != "" && c.By != "zone" && !isLabelBy(c.By) {
			return fmt.Errorf(`by: want "zone" or "label:KEY", got %q`, c.By)
		}
	case CheckTiming:
		return c.validateTiming()
	}
	return nil
}

func isLabelBy(by string) bool { return strings.HasPrefix(by, "label:") && len(by) > len("label:") }

func (c *Check) validateTiming() error {
	switch c.Of {
	case "taint":
		if c.Node == "" || c.Taint == "" || c.Owner != "" || c.Status != "" {
			return fmt.Errorf("of taint: want node and taint (and no owner or status)")
		}
	case "ready":
		if c.Node == "" || c.Owner != "" || c.Taint != "" {
			return fmt.Errorf("of ready: want node and status (and no owner or taint)")
		}
		if c.Status != "True" && c.Status != "False" && c.Status != "Unknown" {
			return fmt.Errorf(`status: want "True", "False" or "Unknown", got %q`, c.Status)
		}
	case "nodeDeleted":
		if c.Node == "" || c.Owner != "" || c.Taint != "" || c.Status != "" || c.Since != nil {
			return fmt.Errorf("of nodeDeleted: want node only")
		}
	default:
		if _, _, ok := splitPodFigure(c.Of); !ok {
			return fmt.Errorf("of: want first or last followed by one of Created, Scheduled, Running, DeletionRequested, Gone, Evicted (e.g. lastRunning), or taint, ready, nodeDeleted; got %q", c.Of)
		}
		if c.Owner == "" && c.Node == "" {
			return fmt.Errorf("of %s: want owner or node (whose pods)", c.Of)
		}
		if c.Taint != "" || c.Status != "" {
			return fmt.Errorf("of %s: taint and status are for node timings", c.Of)
		}
	}
	return nil
}

// splitPodFigure splits "lastRunning" into last=true and "Running".
func splitPodFigure(of string) (last bool, event string, ok bool) {
	switch {
	case strings.HasPrefix(of, "first"):
		event = strings.TrimPrefix(of, "first")
	case strings.HasPrefix(of, "last"):
		last, event = true, strings.TrimPrefix(of, "last")
	default:
		return false, "", false
	}
	_, ok = podEvents[event]
	return last, event, ok
}

// Title names the check in findings: its kind and parameters.
func (c *Check) Title() string {
	parts := []string{c.Check}
	if c.Of != "" {
		parts = append(parts, c.Of)
	}
	if c.Owner != "" {
		parts = append(parts, c.Owner)
	}
	if c.Workload != "" {
		parts = append(parts, c.Workload)
	}
	if c.Node != "" {
		parts = append(parts, "node "+c.Node)
	}
	if c.By != "" {
		parts = append(parts, "by "+c.By)
	}
	if c.Taint != "" {
		parts = append(parts, c.Taint)
	}
	if c.Status != "" {
		parts = append(parts, c.Status)
	}
	if c.Since != nil {
		parts = append(parts, "since "+c.Since.Duration.String())
	}
	if c.HPA != "" {
		parts = append(parts, "HorizontalPodAutoscaler/"+c.HPA)
	}
	if c.Steps != nil {
		parts = append(parts, fmt.Sprintf("first %d steps", *c.Steps))
	}
	return strings.Join(parts, " ")
}

// loadNodeLabels reads the labels of every node the scenario has: nodes.yaml's and those its
// trace applies. A placement by zone or label needs them, and the Observation does not carry
// them: both sides get them from the same files.
func loadNodeLabels(s *Scenario) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	add := func(obj map[string]any) {
		if obj["kind"] != "Node" {
			return
		}
		md, _ := obj["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		labels := map[string]string{}
		if l, ok := md["labels"].(map[string]any); ok {
			for k, v := range l {
				labels[k], _ = v.(string)
			}
		}
		out[name] = labels
	}
	b, err := os.ReadFile(s.NodesFile())
	if err != nil {
		return nil, err
	}
	for _, doc := range splitDocuments(b) {
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return nil, fmt.Errorf("%s: %w", s.NodesFile(), err)
		}
		if items, ok := obj["items"].([]any); ok {
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					add(m)
				}
			}
			continue
		}
		add(obj)
	}
	b, err = os.ReadFile(s.TraceFile())
	if err != nil {
		if os.IsNotExist(err) {
			return out, nil
		}
		return nil, err
	}
	var tr struct {
		Events []struct {
			Apply map[string]any `json:"apply"`
		} `json:"events"`
	}
	if err := yaml.Unmarshal(b, &tr); err != nil {
		return nil, fmt.Errorf("%s: %w", s.TraceFile(), err)
	}
	for _, e := range tr.Events {
		if e.Apply != nil {
			add(e.Apply)
		}
	}
	return out, nil
}

// splitDocuments splits multi-document YAML at its "---" lines.
func splitDocuments(b []byte) [][]byte {
	var out [][]byte
	var cur []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimRight(line, " \t\r") == "---" {
			out = append(out, []byte(strings.Join(cur, "\n")))
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	out = append(out, []byte(strings.Join(cur, "\n")))
	var docs [][]byte
	for _, d := range out {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

// seconds is d in seconds, the unit of the observations.
func seconds(d time.Duration) float64 { return d.Seconds() }
