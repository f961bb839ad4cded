package sweep

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kwoksim/kwoksim/clock"
)

// validate checks what decoding cannot: the header, empty axes, values out of range,
// duplicates, and that every combination has nodes.
func (m *Matrix) validate() error {
	if m.APIVersion != APIVersion || m.Kind != MatrixKind {
		return m.fail(fmt.Sprintf("expected apiVersion %s and kind %s, got %q and %q", APIVersion, MatrixKind, m.APIVersion, m.Kind), "kind")
	}
	if m.node("matrix") == nil {
		return m.fail("missing: a sweep needs at least one axis (schedulerConfig, nodes, replicaScale, seed, autoscaler or featureGates)", "matrix")
	}
	if len(m.axes()) == 0 {
		return m.fail("no axis given; expected at least one of schedulerConfig, nodes, replicaScale, seed, autoscaler, featureGates", "matrix")
	}
	if err := m.validateAutoscaler(); err != nil {
		return err
	}
	if err := m.validateGates(); err != nil {
		return err
	}
	for _, f := range []struct {
		base, axis bool
		name       string
	}{
		{m.node("base", "schedulerConfig") != nil, len(m.Axes.SchedulerConfig) > 0, "schedulerConfig"},
		{m.Base.Seed != nil, len(m.Axes.Seed) > 0, "seed"},
		{m.Base.ReplicaScale != nil, len(m.Axes.ReplicaScale) > 0, "replicaScale"},
	} {
		if f.base && f.axis {
			return m.fail("given in base and as an axis of matrix; give it in one place", "base", f.name)
		}
	}
	if m.Base.Until != "" {
		d, err := time.ParseDuration(m.Base.Until)
		if err != nil || d < 0 {
			return m.fail(fmt.Sprintf("expected a non-negative duration such as 90s or 24h, got %q", m.Base.Until), "base", "until")
		}
		if err := clock.CheckUntil("", d); err != nil {
			return m.fail(strings.TrimSpace(err.Error()), "base", "until")
		}
	}
	if n := m.Base.UntilUnschedulable; n < 0 {
		return m.fail(fmt.Sprintf("must not be negative, got %d (0 turns it off)", n), "base", "untilUnschedulable")
	}
	if len(m.Base.Trace) == 0 {
		// run refuses them too; said here, once, with the field.
		if m.Base.ArrivalsOnly {
			return m.fail("needs base.trace: it leaves out a trace's Pod deletions", "base", "arrivalsOnly")
		}
		if m.Base.UntilUnschedulable > 0 {
			return m.fail("needs base.trace: it counts the pods a trace creates", "base", "untilUnschedulable")
		}
	}
	if s := m.Base.ReplicaScale; s != nil && !validScale(*s) {
		return m.fail(fmt.Sprintf("expected a positive number, got %v", *s), "base", "replicaScale")
	}
	for i, s := range m.Axes.ReplicaScale {
		if !validScale(s) {
			return m.fail(fmt.Sprintf("expected a positive number, got %v", s), "matrix", "replicaScale", i)
		}
	}
	for i, ns := range m.Axes.Nodes {
		if ns.Count != nil && ns.Template == "" {
			return m.fail("a count needs a template", "matrix", "nodes", i, "count")
		}
		if len(ns.Files) == 0 && ns.Template == "" {
			return m.fail("expected files, or a template and a count", "matrix", "nodes", i)
		}
		if ns.Template != "" && ns.Count == nil {
			return m.fail("a template needs a count", "matrix", "nodes", i, "template")
		}
		if ns.Count != nil && *ns.Count < 0 {
			return m.fail(fmt.Sprintf("must not be negative, got %d", *ns.Count), "matrix", "nodes", i, "count")
		}
	}
	if len(m.Base.Nodes) == 0 && len(m.Axes.Nodes) == 0 && !m.autoscaledEveryRun() {
		return m.fail("no nodes: give base.nodes or a matrix.nodes axis (or NodePools in base.workload, with base.autoscaler or a matrix.autoscaler axis other than none)", "base", "nodes")
	}
	for _, field := range []struct {
		name string
		list []string
	}{{"nodes", m.Base.Nodes}, {"workload", m.Base.Workload}, {"trace", m.Base.Trace}, {"stages", m.Base.Stages}} {
		for i, p := range field.list {
			if p == "" {
				return m.fail("an empty path", "base", field.name, i)
			}
		}
	}
	for i, ns := range m.Axes.Nodes {
		for j, p := range ns.Files {
			if p == "" {
				return m.fail("an empty path", "matrix", "nodes", i, "files", j)
			}
		}
	}
	if err := m.checkDuplicates(); err != nil {
		return err
	}
	if n := m.Len(); n > MaxCombinations {
		return m.fail(fmt.Sprintf("%d combinations, more than the limit of %d", n, MaxCombinations), "matrix")
	}
	return nil
}

func validScale(s float64) bool { return s > 0 && !math.IsInf(s, 0) && !math.IsNaN(s) }

// checkDuplicates rejects an axis value given twice: its combinations would be run twice.
func (m *Matrix) checkDuplicates() error {
	for _, axis := range m.axes() {
		seen := map[string]int{}
		for i := 0; i < axis.n; i++ {
			v := axis.label(i)
			if j, ok := seen[v]; ok {
				return m.fail(fmt.Sprintf("the same value as matrix.%s[%d]", axis.name, j), "matrix", axis.name, i)
			}
			seen[v] = i
		}
	}
	return nil
}
