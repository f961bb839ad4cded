package stages

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"sigs.k8s.io/kwok/pkg/apis/internalversion"
)

// maxDelayMilliseconds is the longest delay a time.Duration holds, in milliseconds: more
// would overflow when converted (9e15 ms wraps to a negative duration, played at once).
const maxDelayMilliseconds = math.MaxInt64 / int64(time.Millisecond)

// delaySpec is a compiled StageDelay.
type delaySpec struct {
	duration durationSource
	jitter   *durationSource // nil: no jitter configured
}

// durationSource yields a duration: from an expression when one is given and
// yields something usable, else from the written milliseconds.
type durationSource struct {
	value *time.Duration // nil: no milliseconds written (jitter only)
	from  *exprFrom
}

func (s *Stage) compileDelay(in *internalversion.StageDelay) (*delaySpec, error) {
	for _, c := range []struct {
		field string
		ms    *int64
	}{
		{"spec.delay.durationMilliseconds", in.DurationMilliseconds},
		{"spec.delay.jitterDurationMilliseconds", in.JitterDurationMilliseconds},
	} {
		if c.ms != nil && *c.ms < 0 {
			return nil, s.errorf(c.field, fmt.Errorf("%d is negative (KWOK's CRD requires >= 0)", *c.ms))
		}
		if c.ms != nil && *c.ms > maxDelayMilliseconds {
			return nil, s.errorf(c.field, fmt.Errorf("%d milliseconds is more than a duration holds; expected at most %d (about 292 years)",
				*c.ms, int64(maxDelayMilliseconds)))
		}
	}
	// KWOK always has a duration once delay is given: 0 ms when unwritten.
	d := &delaySpec{duration: durationSource{value: new(time.Duration)}}
	if in.DurationMilliseconds != nil {
		*d.duration.value = time.Duration(*in.DurationMilliseconds) * time.Millisecond
	}
	if in.DurationFrom != nil {
		f, err := s.compileFrom("spec.delay.durationFrom", in.DurationFrom, durationCELTypes)
		if err != nil {
			return nil, err
		}
		d.duration.from = f
	}
	if in.JitterDurationMilliseconds != nil || in.JitterDurationFrom != nil {
		j := &durationSource{}
		if in.JitterDurationMilliseconds != nil {
			j.value = new(time.Duration(*in.JitterDurationMilliseconds) * time.Millisecond)
		}
		// KWOK reads jitterDurationFrom only when it has jq: a CEL-only
		// jitterDurationFrom is ignored, not compiled.
		if in.JitterDurationFrom != nil && in.JitterDurationFrom.JQ != nil {
			f, err := s.compileFrom("spec.delay.jitterDurationFrom",
				&internalversion.ExpressionFrom{JQ: in.JitterDurationFrom.JQ}, durationCELTypes)
			if err != nil {
				return nil, err
			}
			j.from = f
		}
		d.jitter = j
	}
	return d, nil
}

// get evaluates the source as KWOK's durationFrom.Get does. ok is false when
// nothing is set: no milliseconds and no usable expression result, or an
// expression that yields "". A string that parses as RFC 3339 is a point in
// time, giving t − now (negative when t is past); a Go duration string is that
// duration; anything else falls back to the milliseconds.
//
// note is set when the expression yielded a value that is not a duration (a number, an
// object, a string neither RFC 3339 nor a Go duration): KWOK ignores it silently; kwoksim
// does the same but says so, for the caller to report.
func (s *Stage) getDuration(src *durationSource, obj map[string]any, now time.Time) (d time.Duration, ok bool, note string, err error) {
	if f := src.from; f != nil {
		if f.cel != nil {
			val, err := f.cel.eval(obj)
			if err != nil {
				return 0, false, "", s.errorf(f.field+".cel.expression", err)
			}
			d, err := celDuration(val)
			if err != nil {
				return 0, false, "", s.errorf(f.field+".cel.expression", err)
			}
			return d, true, "", nil
		}
		if f.jq != nil {
			out, err := f.jq.run(obj)
			if err != nil {
				return 0, false, "", s.errorf(f.field+".jq.expression", err)
			}
			if len(out) != 0 {
				if str, isStr := out[0].(string); isStr {
					if str == "" {
						return 0, false, "", nil
					}
					if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
						return t.Sub(now), true, "", nil
					}
					if d, err := time.ParseDuration(str); err == nil {
						return d, true, "", nil
					}
				}
				note = ignoredDurationNote(f, out[0], src.value)
			}
		}
	}
	if src.value == nil {
		return 0, false, note, nil
	}
	return *src.value, true, note, nil
}

// ignoredDurationNote says that an expression's value was not a duration and what was used
// instead, as KWOK does: the written milliseconds, else no value at all.
func ignoredDurationNote(f *exprFrom, v any, fallback *time.Duration) string {
	got := fmt.Sprintf("%v", v)
	if str, ok := v.(string); ok {
		got = fmt.Sprintf("%q", str)
	}
	if len(got) > 80 {
		got = got[:77] + "..."
	}
	instead := "so it is not set"
	if fallback != nil {
		ms := strings.TrimSuffix(f.field, "From") + "Milliseconds"
		instead = fmt.Sprintf("so %s (%v) is used", ms, *fallback)
	}
	return fmt.Sprintf("%s.jq.expression %q gave %s, neither an RFC 3339 time nor a Go duration such as \"90s\"; KWOK ignores it, %s",
		f.field, f.jq.src, got, instead)
}

// celDuration converts a CEL result as KWOK's cel.AsDuration does: numbers
// are nanoseconds, strings Go durations.
func celDuration(v ref.Val) (time.Duration, error) {
	switch t := v.(type) {
	case types.String:
		return time.ParseDuration(string(t))
	case types.Duration:
		return t.Duration, nil
	case types.Int:
		return time.Duration(t), nil
	case types.Double:
		// Converting a float beyond int64 is implementation-defined in Go: refuse it.
		if !(float64(t) >= math.MinInt64 && float64(t) < math.MaxInt64) {
			return 0, fmt.Errorf("%v nanoseconds is more than a duration holds", float64(t))
		}
		return time.Duration(t), nil
	case types.Uint:
		if uint64(t) > math.MaxInt64 {
			return 0, fmt.Errorf("%d nanoseconds is more than a duration holds", uint64(t))
		}
		return time.Duration(t), nil
	}
	return 0, fmt.Errorf("cannot use %s as a duration", v.Type())
}

// bounds returns KWOK's DelayRangePossible: [d] or [d, jitter). note is set when an
// expression's value was ignored (see getDuration).
func (s *Stage) bounds(obj map[string]any, now time.Time) (lo, hi time.Duration, ok bool, note string, err error) {
	if s.delay == nil {
		return 0, 0, false, "", nil
	}
	d, ok, note, err := s.getDuration(&s.delay.duration, obj, now)
	if err != nil || !ok {
		return 0, 0, false, note, err
	}
	if s.delay.jitter == nil {
		return d, d, true, note, nil
	}
	j, ok, jnote, err := s.getDuration(s.delay.jitter, obj, now)
	if note == "" {
		note = jnote
	} else if jnote != "" {
		note += "; " + jnote
	}
	if err != nil {
		return 0, 0, false, note, err
	}
	if !ok {
		return d, d, true, note, nil
	}
	if j <= d {
		return j, j, true, note, nil
	}
	return d, j, true, note, nil
}

// Delay returns how long to wait before playing the stage: no delay → 0; no
// jitter → the duration; jitter ≤ duration → the jitter; else uniform in
// [duration, jitter), drawn only from rng. A time in the past yields a
// negative value, which KWOK's queue plays at once; Delay returns 0 for it.
// KWOK logs an evaluation error and plays the stage with delay 0; here it is
// returned for the caller to decide.
func (s *Stage) Delay(obj map[string]any, now time.Time, rng *rand.Rand) (time.Duration, error) {
	d, _, err := s.DelayNoted(obj, now, rng)
	return d, err
}

// DelayNoted is Delay, and a note when a durationFrom or jitterDurationFrom expression gave
// a value that is not a duration and was ignored as KWOK ignores it, for the caller to
// report: "" when nothing was ignored.
func (s *Stage) DelayNoted(obj map[string]any, now time.Time, rng *rand.Rand) (time.Duration, string, error) {
	lo, hi, ok, note, err := s.bounds(obj, now)
	if err != nil || !ok {
		return 0, note, err
	}
	d := lo
	if span := hi - lo; span > 0 {
		// The same draw as KWOK's rand.Int63n(jitter − duration), so the
		// distribution matches even when the lower bound is negative.
		d += time.Duration(rng.Int64N(int64(span)))
	} else if hi > lo {
		// The span overflows (a lower bound far in the past): draw in [0, hi) instead.
		d = 0
		if hi > 0 {
			d = time.Duration(rng.Int64N(int64(hi)))
		}
	}
	return max(d, 0), note, nil
}

// DelayRange returns the range KWOK's golden tests print (DelayRangePossible):
// min == max for a fixed delay, else [min, max). Unlike Delay it keeps
// negative values, as KWOK prints them. ok is false when the stage has no
// delay or its duration is unset.
func (s *Stage) DelayRange(obj map[string]any, now time.Time) (lo, hi time.Duration, ok bool, err error) {
	lo, hi, ok, _, err = s.bounds(obj, now)
	return lo, hi, ok, err
}

// FixedDelayRange returns the stage's delay range when it depends on nothing but the stage
// itself, with no durationFrom or jitterDurationFrom expression: then every transition of the
// stage waits a draw from the same range, min == max for a fixed delay, else [min, max).
// ok is false for a stage whose delay reads the object, and for one without a delay.
func (s *Stage) FixedDelayRange() (lo, hi time.Duration, ok bool) {
	if s.delay == nil || s.delay.duration.from != nil || (s.delay.jitter != nil && s.delay.jitter.from != nil) {
		return 0, 0, false
	}
	lo, hi, ok, _, _ = s.bounds(nil, time.Time{})
	return max(lo, 0), max(hi, 0), ok
}
