package perf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Op is one op of a workload template: upstream's op, holding the concrete op its opcode
// names (scheduler_perf.go, op.UnmarshalJSON; the op types are operations.go's).
type Op struct{ op realOp }

type realOp interface {
	// isValid checks the op as written; allowParameterization lets a count come from a
	// parameter still to be resolved.
	isValid(allowParameterization bool) error
	collectsMetrics() bool
	// patchParams returns a copy with the workload's parameters filled in.
	patchParams(w *Workload) (realOp, error)
}

// unsupportedOp is an opcode upstream has and kwoksim does not run (yet): the file loads, and
// a workload that uses it is reported as not run, with why.
type unsupportedOp struct {
	Opcode string
	why    string
}

func (o *unsupportedOp) isValid(bool) error                   { return nil }
func (o *unsupportedOp) collectsMetrics() bool                { return false }
func (o unsupportedOp) patchParams(*Workload) (realOp, error) { return &o, nil }

// unsupportedOpcodes are upstream's opcodes kwoksim does not run, with the reason.
var unsupportedOpcodes = map[string]string{
	"createPodGroups":        "PodGroup (scheduling.k8s.io/v1beta1) is not served by the simulator",
	"updateAny":              "updateAny is not implemented by kwoksim perf",
	"startCollectingProfile": "profiles are not collected by kwoksim perf (use the binary's own profiling)",
	"stopCollectingProfile":  "profiles are not collected by kwoksim perf (use the binary's own profiling)",
}

// UnmarshalJSON decodes the op its opcode names, strictly, as upstream does.
func (o *Op) UnmarshalJSON(b []byte) error {
	var head struct{ Opcode string }
	if err := json.Unmarshal(b, &head); err != nil {
		return fmt.Errorf("decoding opcode from %s: %w", b, err)
	}
	var op realOp
	switch head.Opcode {
	case "createAny":
		op = &createAny{}
	case "createNodes":
		op = &createNodesOp{}
	case "createNamespaces":
		op = &createNamespacesOp{}
	case "createPods":
		op = &createPodsOp{}
	case "createPodSets":
		op = &createPodSetsOp{}
	case "deletePods":
		op = &deletePodsOp{}
	case "churn":
		op = &churnOp{}
	case "barrier":
		op = &barrierOp{}
	case "sleep":
		op = &sleepOp{}
	case "startCollectingMetrics":
		op = &startCollectingMetricsOp{}
	case "stopCollectingMetrics":
		op = &stopCollectingMetricsOp{}
	case "createResourceClaims":
		op = &createResourceClaimsOp{}
	case "allocResourceClaims":
		op = &allocResourceClaimsOp{}
	default:
		why, ok := unsupportedOpcodes[head.Opcode]
		if !ok {
			return fmt.Errorf("unknown opcode %q in %s", head.Opcode, b)
		}
		o.op = &unsupportedOp{Opcode: head.Opcode, why: why}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(op); err != nil {
		return fmt.Errorf("decoding %s into %s: %w", b, head.Opcode, err)
	}
	if err := op.isValid(true); err != nil {
		return fmt.Errorf("%s not valid for %s: %w", b, head.Opcode, err)
	}
	o.op = op
	return nil
}

func (o Op) collectsMetrics() bool { return o.op != nil && o.op.collectsMetrics() }

// isValidCount is upstream's: a count is a non-negative number, or a "$param" still to resolve.
func isValidCount(allowParameterization bool, count int, countParam string) bool {
	if !allowParameterization || countParam == "" {
		return count >= 0
	}
	return strings.HasPrefix(countParam, "$")
}

// countFrom resolves a "$param" count.
func countFrom(w *Workload, countParam string, count *int) error {
	if countParam == "" {
		return nil
	}
	v, err := w.Params.Int(countParam[1:])
	if err != nil {
		return err
	}
	*count = v
	return nil
}

// createNodesOp is upstream's: Count nodes from a template (or the base node), then prepared by
// at most one strategy.
type createNodesOp struct {
	Opcode                   string
	Count                    int
	CountParam               string
	NodeTemplatePath         *string
	NodeAllocatableStrategy  *nodeAllocatableStrategy
	LabelNodePrepareStrategy *labelNodePrepareStrategy
	UniqueNodeLabelStrategy  *uniqueNodeLabelStrategy
	TemplateParams           map[string]any
}

// The node preparer strategies of upstream's runners.go.
type (
	nodeAllocatableStrategy struct {
		NodeAllocatable    map[string]string
		CsiNodeAllocatable map[string]json.RawMessage
		MigratedPlugins    []string
	}
	labelNodePrepareStrategy struct {
		LabelKey    string
		LabelValues []string
	}
	uniqueNodeLabelStrategy struct{ LabelKey string }
)

func (c *createNodesOp) isValid(allow bool) error {
	if !isValidCount(allow, c.Count, c.CountParam) {
		return fmt.Errorf("invalid Count=%d / CountParam=%q", c.Count, c.CountParam)
	}
	if l := c.LabelNodePrepareStrategy; l != nil && len(l.LabelValues) == 0 {
		return fmt.Errorf("labelNodePrepareStrategy needs labelValues")
	}
	return nil
}
func (*createNodesOp) collectsMetrics() bool { return false }
func (c createNodesOp) patchParams(w *Workload) (realOp, error) {
	if err := countFrom(w, c.CountParam, &c.Count); err != nil {
		return nil, err
	}
	var err error
	if c.TemplateParams, err = resolveTemplateParams(c.TemplateParams, w); err != nil {
		return nil, err
	}
	return &c, c.isValid(false)
}

// createNamespacesOp is upstream's: namespaces prefix-0 … prefix-(Count-1).
type createNamespacesOp struct {
	Opcode                string
	Prefix                string
	Count                 int
	CountParam            string
	NamespaceTemplatePath *string
}

func (c *createNamespacesOp) isValid(allow bool) error {
	if !isValidCount(allow, c.Count, c.CountParam) {
		return fmt.Errorf("invalid Count=%d / CountParam=%q", c.Count, c.CountParam)
	}
	return nil
}
func (*createNamespacesOp) collectsMetrics() bool { return false }
func (c createNamespacesOp) patchParams(w *Workload) (realOp, error) {
	if err := countFrom(w, c.CountParam, &c.Count); err != nil {
		return nil, err
	}
	return &c, c.isValid(false)
}

// createPodsOp is upstream's: Count pods from a template in a namespace (namespace-<op index>
// by default), waited for unless skipWaitToCompletion, measured when collectMetrics.
type createPodsOp struct {
	Opcode                            string
	Count                             int
	CountParam                        string
	CountMultiplierParam              string
	SteadyState                       bool
	SteadyStateParam                  string
	Duration                          metav1.Duration
	DurationParam                     string
	CollectMetrics                    bool
	Namespace                         *string
	PodTemplatePath                   *string
	SkipWaitToCompletion              bool
	PersistentVolumeTemplatePath      *string
	PersistentVolumeClaimTemplatePath *string
	TemplateParams                    map[string]any
	SignatureBatchSize                int
	SignatureBatchSizeParam           string
}

func (c *createPodsOp) isValid(allow bool) error {
	if !isValidCount(allow, c.SignatureBatchSize, c.SignatureBatchSizeParam) {
		return fmt.Errorf("invalid SignatureBatchSize=%d / SignatureBatchSizeParam=%q", c.SignatureBatchSize, c.SignatureBatchSizeParam)
	}
	if !isValidCount(allow, c.Count, c.CountParam) {
		return fmt.Errorf("invalid Count=%d / CountParam=%q", c.Count, c.CountParam)
	}
	if c.CollectMetrics && c.SkipWaitToCompletion {
		return fmt.Errorf("collectMetrics and skipWaitToCompletion cannot be true at the same time")
	}
	if c.SkipWaitToCompletion && c.SteadyState {
		return fmt.Errorf("skipWaitToCompletion and steadyState cannot be true at the same time")
	}
	if c.SteadyState && !allow && c.Duration.Duration <= 0 {
		return fmt.Errorf("when creating pods in a steady state, the test duration must be > 0")
	}
	return nil
}
func (c *createPodsOp) collectsMetrics() bool { return c.CollectMetrics }
func (c createPodsOp) patchParams(w *Workload) (realOp, error) {
	if err := countFrom(w, c.CountParam, &c.Count); err != nil {
		return nil, err
	}
	if c.CountMultiplierParam != "" {
		m, err := w.Params.Int(c.CountMultiplierParam[1:])
		if err != nil {
			return nil, err
		}
		c.Count *= m
	}
	if err := countFrom(w, c.SignatureBatchSizeParam, &c.SignatureBatchSize); err != nil {
		return nil, err
	}
	if c.SignatureBatchSize == 0 {
		c.SignatureBatchSize = 1
	}
	if c.DurationParam != "" {
		s, err := param[string](w.Params, c.DurationParam[1:])
		if err != nil {
			return nil, err
		}
		if err := c.Duration.UnmarshalJSON([]byte(fmt.Sprintf("%q", s))); err != nil {
			return nil, fmt.Errorf("parsing duration parameter %s: %w", c.DurationParam, err)
		}
	}
	if c.SteadyStateParam != "" {
		v, err := param[bool](w.Params, c.SteadyStateParam[1:])
		if err != nil {
			return nil, err
		}
		c.SteadyState = v
	}
	var err error
	if c.TemplateParams, err = resolveTemplateParams(c.TemplateParams, w); err != nil {
		return nil, err
	}
	return &c, c.isValid(false)
}

// createPodSetsOp is upstream's: Count createPods ops in namespaces prefix-0 …, unrolled
// before the workload runs (unrollWorkloadTemplate).
type createPodSetsOp struct {
	Opcode          string
	Count           int
	CountParam      string
	NamespacePrefix string
	CreatePodsOp    createPodsOp
}

func (c *createPodSetsOp) isValid(allow bool) error {
	if !isValidCount(allow, c.Count, c.CountParam) {
		return fmt.Errorf("invalid Count=%d / CountParam=%q", c.Count, c.CountParam)
	}
	return c.CreatePodsOp.isValid(allow)
}
func (c *createPodSetsOp) collectsMetrics() bool { return c.CreatePodsOp.CollectMetrics }
func (c createPodSetsOp) patchParams(w *Workload) (realOp, error) {
	if err := countFrom(w, c.CountParam, &c.Count); err != nil {
		return nil, err
	}
	return &c, c.isValid(true)
}

// deletePodsOp is upstream's: delete the pods of a namespace (matching a label selector), all
// at once or DeletePodsPerSecond a second.
type deletePodsOp struct {
	Opcode               string
	Namespace            string
	LabelSelector        map[string]string
	SkipWaitToCompletion bool
	DeletePodsPerSecond  int
}

func (d *deletePodsOp) isValid(bool) error {
	if d.DeletePodsPerSecond < 0 {
		return fmt.Errorf("invalid DeletePodsPerSecond=%d; should be non-negative", d.DeletePodsPerSecond)
	}
	return nil
}
func (*deletePodsOp) collectsMetrics() bool                  { return false }
func (d deletePodsOp) patchParams(*Workload) (realOp, error) { return &d, nil }

// churnOp is upstream's: every IntervalMilliseconds (500 by default), create one object from
// each template (mode create, Number times or for ever) or create and, Number ticks later,
// delete it again (mode recreate), until the workload ends.
type churnOp struct {
	Opcode               string
	Mode                 string
	Number               int
	IntervalMilliseconds int64
	Namespace            *string
	TemplatePaths        []string
}

func (c *churnOp) isValid(bool) error {
	if c.Mode != "recreate" && c.Mode != "create" {
		return fmt.Errorf("invalid mode: %v. must be one of [recreate create]", c.Mode)
	}
	if c.Number < 0 {
		return fmt.Errorf("number (%v) cannot be negative", c.Number)
	}
	if c.Mode == "recreate" && c.Number == 0 {
		return fmt.Errorf("number cannot be 0 when mode is recreate")
	}
	if len(c.TemplatePaths) == 0 {
		return fmt.Errorf("at least one template spec file needs to be specified")
	}
	return nil
}
func (*churnOp) collectsMetrics() bool                  { return false }
func (c churnOp) patchParams(*Workload) (realOp, error) { return &c, nil }

// barrierOp is upstream's: wait until the pods of the namespaces (all so far by default) are
// scheduled, or only attempted.
type barrierOp struct {
	Opcode           string
	Namespaces       []string
	LabelSelector    map[string]string
	StageRequirement string
}

func (b *barrierOp) isValid(bool) error {
	if b.StageRequirement != "" && b.StageRequirement != stageScheduled && b.StageRequirement != stageAttempted {
		return fmt.Errorf("invalid StageRequirement %s", b.StageRequirement)
	}
	return nil
}
func (*barrierOp) collectsMetrics() bool { return false }
func (b barrierOp) patchParams(*Workload) (realOp, error) {
	if b.StageRequirement == "" {
		b.StageRequirement = stageScheduled
	}
	return &b, nil
}

// Upstream's SchedulingStage values.
const (
	stageScheduled = "Scheduled"
	stageAttempted = "Attempted"
)

// sleepOp is upstream's: let Duration pass (here: virtual time).
type sleepOp struct {
	Opcode        string
	Duration      metav1.Duration
	DurationParam string
}

func (*sleepOp) isValid(bool) error    { return nil }
func (*sleepOp) collectsMetrics() bool { return false }
func (s sleepOp) patchParams(w *Workload) (realOp, error) {
	if s.DurationParam != "" {
		v, err := param[string](w.Params, s.DurationParam[1:])
		if err != nil {
			return nil, err
		}
		if err := s.Duration.UnmarshalJSON([]byte(fmt.Sprintf("%q", v))); err != nil {
			return nil, fmt.Errorf("invalid duration parameter %s: %w", s.DurationParam, err)
		}
	}
	return &s, nil
}

// createAny is upstream's: Count objects of any kind from a template, .Index 0 … Count-1.
type createAny struct {
	Opcode         string
	Namespace      string
	TemplatePath   string
	Count          *int
	CountParam     string
	TemplateParams map[string]any
}

func (c *createAny) isValid(bool) error {
	if c.TemplatePath == "" {
		return fmt.Errorf("TemplatePath must be set")
	}
	return nil
}
func (*createAny) collectsMetrics() bool { return false }
func (c createAny) patchParams(w *Workload) (realOp, error) {
	if c.CountParam != "" {
		n, err := w.Params.Int(c.CountParam[1:])
		if err != nil {
			return nil, err
		}
		c.Count = &n
	}
	var err error
	if c.TemplateParams, err = resolveTemplateParams(c.TemplateParams, w); err != nil {
		return nil, err
	}
	return &c, c.isValid(false)
}

// startCollectingMetricsOp and stopCollectingMetricsOp are upstream's: measure the pods of the
// namespaces scheduled between the two.
type startCollectingMetricsOp struct {
	Opcode        string
	Name          string
	Namespaces    []string
	LabelSelector map[string]string
}

func (s *startCollectingMetricsOp) isValid(bool) error {
	if len(s.Namespaces) == 0 {
		return fmt.Errorf("namespaces cannot be empty")
	}
	return nil
}
func (*startCollectingMetricsOp) collectsMetrics() bool                  { return false }
func (s startCollectingMetricsOp) patchParams(*Workload) (realOp, error) { return &s, nil }

type stopCollectingMetricsOp struct{ Opcode string }

func (*stopCollectingMetricsOp) isValid(bool) error                     { return nil }
func (*stopCollectingMetricsOp) collectsMetrics() bool                  { return true }
func (s stopCollectingMetricsOp) patchParams(*Workload) (realOp, error) { return &s, nil }
