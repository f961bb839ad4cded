package stages

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// Weight returns the stage's weight for obj as KWOK computes it: from
// weightFrom when given, else weight. ok is false when weightFrom yields a
// value that is not usable: an empty string or a string strconv.ParseInt
// (base prefixes allowed) rejects. A jq result that is neither string nor
// number, no result, or a jq runtime error fall back to weight. A CEL error
// is an error.
func (s *Stage) Weight(obj map[string]any) (int, bool, error) {
	w, ok, err := s.weight64(obj)
	return int(w), ok, err
}

func (s *Stage) weight64(obj map[string]any) (int64, bool, error) {
	f := s.weightFrom
	if f == nil {
		return s.weight, true, nil
	}
	if f.cel != nil {
		val, err := f.cel.eval(obj)
		if err != nil {
			return 0, false, s.errorf(f.field+".cel.expression", err)
		}
		n, err := celInt64(val)
		if err != nil {
			return 0, false, s.errorf(f.field+".cel.expression", err)
		}
		return n, true, nil
	}
	if f.jq != nil {
		out, err := f.jq.run(obj)
		if err != nil {
			return 0, false, s.errorf(f.field+".jq.expression", err)
		}
		if len(out) != 0 {
			switch t := out[0].(type) {
			case string:
				if t == "" {
					return 0, false, nil
				}
				n, err := strconv.ParseInt(t, 0, 0)
				if err != nil {
					return 0, false, nil
				}
				return n, true, nil
			case float64:
				return int64(t), true, nil
			case int:
				// KWOK's switch has no int case, so a jq integer (e.g. a
				// literal or `length`) falls back to weight.
			}
		}
	}
	return s.weight, true, nil
}

// celInt64 converts a CEL result as KWOK's cel.AsInt64 does.
func celInt64(v ref.Val) (int64, error) {
	switch t := v.(type) {
	case types.Duration:
		return int64(t.Duration), nil
	case types.Int:
		return int64(t), nil
	case types.Double:
		return int64(t), nil
	case types.Uint:
		return int64(t), nil
	case types.Bool:
		if t {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("cannot use %s as a weight", v.Type())
}

// weights evaluates every stage's weight; a weight that is not ok is -1.
func weights(matched []*Stage, obj map[string]any) (ws []int64, total int64, unusable int, err error) {
	ws = make([]int64, len(matched))
	for i, s := range matched {
		w, ok, err := s.weight64(obj)
		if err != nil {
			return nil, 0, 0, err
		}
		if !ok {
			ws[i] = -1
			unusable++
			continue
		}
		ws[i] = w
		total += w
	}
	return ws, total, unusable, nil
}

// Pick chooses one of the matched stages as KWOK's Lifecycle.Match does,
// drawing only from rng: a single stage wins outright (no draw, no weight
// evaluated); when every weight is unusable, or all usable weights are 0, the
// pick is uniform (over the usable ones when some are unusable); otherwise it
// is a weighted draw over the stages with weight > 0. Nil when none matched.
func Pick(matched []*Stage, obj map[string]any, rng *rand.Rand) (*Stage, error) {
	switch len(matched) {
	case 0:
		return nil, nil
	case 1:
		return matched[0], nil
	}
	ws, total, unusable, err := weights(matched, obj)
	if err != nil {
		return nil, err
	}
	if unusable == len(matched) {
		return matched[rng.IntN(len(matched))], nil
	}
	if total == 0 {
		if unusable == 0 {
			return matched[rng.IntN(len(matched))], nil
		}
		usable := make([]*Stage, 0, len(matched)-unusable)
		for i, s := range matched {
			if ws[i] >= 0 {
				usable = append(usable, s)
			}
		}
		return usable[rng.IntN(len(usable))], nil
	}
	if total < 0 {
		// Only weightFrom can go negative; KWOK would panic in rand.Int63n.
		return nil, fmt.Errorf("stages %s: weights sum to %d", stageNames(matched), total)
	}
	off := rng.Int64N(total)
	for i, s := range matched {
		if ws[i] <= 0 {
			continue
		}
		off -= ws[i]
		if off < 0 {
			return s, nil
		}
	}
	// Reachable only when negative weights shrink the total (KWOK does the same).
	return matched[len(matched)-1], nil
}

// possible lists the stages Pick can return, as KWOK's
// Lifecycle.ListAllPossible does; the golden tests print it.
func possible(matched []*Stage, obj map[string]any) ([]*Stage, error) {
	if len(matched) <= 1 {
		return matched, nil
	}
	ws, total, unusable, err := weights(matched, obj)
	if err != nil {
		return nil, err
	}
	if unusable == len(matched) || (total == 0 && unusable == 0) {
		return matched, nil
	}
	var out []*Stage
	for i, s := range matched {
		if (total == 0 && ws[i] >= 0) || (total != 0 && ws[i] > 0) {
			out = append(out, s)
		}
	}
	return out, nil
}

func stageNames(stages []*Stage) []string {
	names := make([]string, len(stages))
	for i, s := range stages {
		names[i] = s.Name
	}
	return names
}
