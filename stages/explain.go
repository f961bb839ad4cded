package stages

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
)

// Source is the file the stage was loaded from ("" when it came from elsewhere).
func (s *Stage) Source() string { return s.source }

// Explanation is what one stage would do with one object: the debugging view of
// `kwoksim stages explain`.
type Explanation struct {
	Stage  *Stage
	Source string
	// Matches reports whether the selector holds; when it does not, Mismatch names the first
	// requirement that fails, as the stage file spells it.
	Matches  bool
	Mismatch string
	// Weight is the stage's weight for the object (from weightFrom when usable); Chance is the
	// probability that Pick chooses it among the matching stages (0 when it does not match).
	Weight       int64
	WeightUsable bool
	Chance       float64
	// DelayMin and DelayMax bound the delay; HasDelay is false when the stage has none.
	DelayMin, DelayMax time.Duration
	HasDelay           bool
	// Steps are the stage's steps rendered for the object (only for matching stages).
	Steps []Step
	// Err is an evaluation error (a CEL runtime error, an exhausted budget, a bad template).
	Err error
}

// Explain evaluates every stage of kind for obj, in stage order, as the simulator would at
// virtual time now with env. It never fails as a whole: each stage's error is in its
// Explanation, since one broken stage is exactly what a stage author wants to find.
func Explain(set []*Stage, kind string, obj map[string]any, now time.Time, env Env) []Explanation {
	var out []Explanation
	var matched []*Stage
	for _, s := range set {
		if s.Kind != kind {
			continue
		}
		e := Explanation{Stage: s, Source: s.source}
		e.Matches, e.Mismatch, e.Err = s.explainMatch(obj)
		if e.Err == nil {
			e.Weight, e.WeightUsable, e.Err = s.weight64(obj)
		}
		if e.Err == nil && e.Matches {
			matched = append(matched, s)
			e.DelayMin, e.DelayMax, e.HasDelay, e.Err = s.DelayRange(obj, now)
		}
		if e.Err == nil && e.Matches {
			e.Steps, e.Err = s.Steps(obj, env)
		}
		out = append(out, e)
	}
	chances, err := chances(matched, obj)
	for i := range out {
		if c, ok := chances[out[i].Stage]; ok && err == nil {
			out[i].Chance = c
		}
	}
	return out
}

// explainMatch is matches, also naming the first requirement that fails.
func (s *Stage) explainMatch(obj map[string]any) (bool, string, error) {
	sel := s.selector
	if sel == nil {
		return false, "no selector: KWOK never applies a stage without one", nil
	}
	meta, _ := obj["metadata"].(map[string]any)
	if sel.labels != nil && !setMatches(sel.labels, meta["labels"]) {
		return false, "spec.selector.matchLabels " + formatSet(sel.labels), nil
	}
	if sel.annotations != nil && !setMatches(sel.annotations, meta["annotations"]) {
		return false, "spec.selector.matchAnnotations " + formatSet(sel.annotations), nil
	}
	for _, r := range sel.jq {
		ok, err := r.matches(obj)
		if err != nil {
			return false, "", s.errorf(r.field, err)
		}
		if !ok {
			desc := fmt.Sprintf("%s: %s %s", r.field, r.query.src, r.op)
			if len(r.values) > 0 {
				desc += " " + fmt.Sprint(r.values)
			}
			return false, desc, nil
		}
	}
	for _, c := range sel.cel {
		val, err := c.prg.eval(obj)
		if err != nil {
			return false, "", s.errorf(c.field, err)
		}
		b, isBool := val.(types.Bool)
		if !isBool {
			return false, "", s.errorf(c.field, fmt.Errorf("expression returned %s, want bool", val.Type()))
		}
		if !b {
			return false, fmt.Sprintf("%s: cel %s is false", c.field, c.prg.src), nil
		}
	}
	return true, "", nil
}

func formatSet(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// chances is the probability with which Pick returns each matched stage.
func chances(matched []*Stage, obj map[string]any) (map[*Stage]float64, error) {
	out := map[*Stage]float64{}
	switch len(matched) {
	case 0:
		return out, nil
	case 1:
		out[matched[0]] = 1
		return out, nil
	}
	ws, total, _, err := weights(matched, obj)
	if err != nil {
		return nil, err
	}
	if total < 0 {
		return nil, fmt.Errorf("stages %s: weights sum to %d", stageNames(matched), total)
	}
	if total > 0 {
		for i, s := range matched {
			if ws[i] > 0 {
				out[s] = float64(ws[i]) / float64(total)
			}
		}
		return out, nil
	}
	// Uniform over the stages possible returns (all, or the usable ones).
	can, err := possible(matched, obj)
	if err != nil {
		return nil, err
	}
	for _, s := range can {
		out[s] = 1 / float64(len(can))
	}
	return out, nil
}
