package stages

import (
	"fmt"
	"math"
	"math/rand/v2"
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
func (s *Stage) getDuration(src *durationSource, obj map[string]any, now time.Time) (time.Duration, bool, error) {
	if f := src.from; f != nil {
		if f.cel != nil {
			val, err := f.cel.eval(obj)
			if err != nil {
				return 0, false, s.errorf(f.field+".cel.expression", err)
			}
			d, err := celDuration(val)
			if err != nil {
				return 0, false, s.errorf(f.field+".cel.expression", err)
			}
			return d, true, nil
		}
		if f.jq != nil {
			out, err := f.jq.run(obj)
			if err != nil {
				return 0, false, s.errorf(f.field+".jq.expression", err)
			}
			if len(out) != 0 {
				if str, isStr := out[0].(string); isStr {
					if str == "" {
						return 0, false, nil
					}
					if t, err := time.Parse(time.RFC3339Nano, str); err == nil {
						return t.Sub(now), true, nil
					}
					if d, err := time.ParseDuration(str); err == nil {
						return d, true, nil
					}
				}
			}
		}
	}
	if src.value == nil {
		return 0, false, nil
	}
	return *src.value, true, nil
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
		return time.Duration(t), nil
	case types.Uint:
		return time.Duration(t), nil
	}
	return 0, fmt.Errorf("cannot use %s as a duration", v.Type())
}

// bounds returns KWOK's DelayRangePossible: [d] or [d, jitter).
func (s *Stage) bounds(obj map[string]any, now time.Time) (lo, hi time.Duration, ok bool, err error) {
	if s.delay == nil {
		return 0, 0, false, nil
	}
	d, ok, err := s.getDuration(&s.delay.duration, obj, now)
	if err != nil || !ok {
		return 0, 0, false, err
	}
	if s.delay.jitter == nil {
		return d, d, true, nil
	}
	j, ok, err := s.getDuration(s.delay.jitter, obj, now)
	if err != nil {
		return 0, 0, false, err
	}
	if !ok {
		return d, d, true, nil
	}
	if j <= d {
		return j, j, true, nil
	}
	return d, j, true, nil
}

// Delay returns how long to wait before playing the stage: no delay → 0; no
// jitter → the duration; jitter ≤ duration → the jitter; else uniform in
// [duration, jitter), drawn only from rng. A time in the past yields a
// negative value, which KWOK's queue plays at once; Delay returns 0 for it.
// KWOK logs an evaluation error and plays the stage with delay 0; here it is
// returned for the caller to decide.
func (s *Stage) Delay(obj map[string]any, now time.Time, rng *rand.Rand) (time.Duration, error) {
	lo, hi, ok, err := s.bounds(obj, now)
	if err != nil || !ok {
		return 0, err
	}
	d := lo
	if hi > lo {
		// The same draw as KWOK's rand.Int63n(jitter − duration), so the
		// distribution matches even when the lower bound is negative.
		d += time.Duration(rng.Int64N(int64(hi - lo)))
	}
	return max(d, 0), nil
}

// DelayRange returns the range KWOK's golden tests print (DelayRangePossible):
// min == max for a fixed delay, else [min, max). Unlike Delay it keeps
// negative values, as KWOK prints them. ok is false when the stage has no
// delay or its duration is unset.
func (s *Stage) DelayRange(obj map[string]any, now time.Time) (lo, hi time.Duration, ok bool, err error) {
	return s.bounds(obj, now)
}

// FixedDelayRange returns the stage's delay range when it depends on nothing but the stage
// itself, with no durationFrom or jitterDurationFrom expression: then every transition of the
// stage waits a draw from the same range, min == max for a fixed delay, else [min, max).
// ok is false for a stage whose delay reads the object, and for one without a delay.
func (s *Stage) FixedDelayRange() (lo, hi time.Duration, ok bool) {
	if s.delay == nil || s.delay.duration.from != nil || (s.delay.jitter != nil && s.delay.jitter.from != nil) {
		return 0, 0, false
	}
	lo, hi, ok, _ = s.bounds(nil, time.Time{})
	return max(lo, 0), max(hi, 0), ok
}
