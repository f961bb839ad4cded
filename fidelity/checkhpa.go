package fidelity

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// hpaNamed is the HPA the check names: "name" (in the default namespace) or "namespace/name";
// nil when the run has none of that name.
func hpaNamed(r Run, ref string) *HPA {
	ns, name, ok := strings.Cut(ref, "/")
	if !ok {
		ns, name = "default", ref
	}
	for i := range r.HPAs {
		if h := &r.HPAs[i]; h.Namespace == ns && h.Name == name {
			return h
		}
	}
	return nil
}

// hpaEventCounts sums an HPA's event counts by "Type Reason": the messages are left out (see
// the hpa check), so events that differ only in them count together.
func hpaEventCounts(h *HPA) counts {
	m := counts{}
	if h == nil {
		return m
	}
	for _, e := range h.Events {
		m[e.Type+" "+e.Reason] += e.Count
	}
	return m
}

// hpaConditions writes an HPA's final conditions as "Type=Status (Reason)", sorted by type so
// that the order the controller first set them in does not count.
func hpaConditions(h *HPA) string {
	if h == nil {
		return ""
	}
	var parts []string
	for _, c := range h.Conditions {
		parts = append(parts, fmt.Sprintf("%s=%s (%s)", c.Type, c.Status, c.Reason))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// hpaCheck compares one HPA (see the hpa kind in Check's documentation): its event kinds
// exactly and each kind's count within the real runs' spread widened by countTolerance; its
// final conditions, status replicas and its target's spec.replicas exactly. Messages are not
// compared: the real cluster, which has no metrics API, ends its events and its ScalingActive
// condition with the apiserver's "the server could not find the requested resource (get
// pods.metrics.k8s.io)", kwoksim with "no metrics returned from resource metrics API".
func hpaCheck(c *Check, real []Run, kw Run) []Finding {
	tol := *c.CountTolerance
	of := func(r Run) *HPA { return hpaNamed(r, c.HPA) }
	found := func(r Run) string {
		if of(r) == nil {
			return "no"
		}
		return "yes"
	}
	out := []Finding{exact("recorded", mapRuns(real, found), found(kw), "")}
	kinds := func(r Run) string { return strings.Join(hpaEventCounts(of(r)).keys(), ", ") }
	out = append(out, exact("events (type reason)", mapRuns(real, kinds), kinds(kw), ""))
	rc := mapRuns(real, func(r Run) counts { return hpaEventCounts(of(r)) })
	kc := hpaEventCounts(of(kw))
	all := counts{}
	for _, m := range append(rc, kc) {
		for k := range m {
			all[k] = 0
		}
	}
	for _, k := range all.keys() {
		out = append(out, withinCount("count of "+k, mapSlice(rc, func(m counts) int { return m[k] }), kc[k], tol))
	}
	conds := func(r Run) string { return hpaConditions(of(r)) }
	status := func(r Run) string {
		h := of(r)
		if h == nil {
			return ""
		}
		return fmt.Sprintf("%d/%d", h.CurrentReplicas, h.DesiredReplicas)
	}
	target := func(r Run) string {
		h := of(r)
		if h == nil {
			return ""
		}
		parts := make([]string, len(h.TargetReplicas))
		for i, v := range h.TargetReplicas {
			parts[i] = strconv.Itoa(int(v))
		}
		return strings.Join(parts, " → ")
	}
	return append(out,
		exact("final conditions", mapRuns(real, conds), conds(kw), ""),
		exact("currentReplicas/desiredReplicas", mapRuns(real, status), status(kw), ""),
		exact("target's spec.replicas over the run", mapRuns(real, target), target(kw), ""),
	)
}
