package stages

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	now := kwokNow
	future := now.Add(90 * time.Second).Format(time.RFC3339)
	past := now.Add(-30 * time.Second).Format(time.RFC3339)
	const from = "  durationFrom:\n    expressionFrom: .d\n"
	const jitterFrom = "  jitterDurationFrom:\n    expressionFrom: .j\n"
	for _, tc := range []struct {
		name   string
		delay  string // body under delay:, "" for none
		obj    string
		lo, hi time.Duration
		ok     bool
	}{
		{"no delay", "", `{}`, 0, 0, false},
		{"empty delay is 0", "  {}\n", `{}`, 0, 0, true},
		{"duration only", "  durationMilliseconds: 1000\n", `{}`, time.Second, time.Second, true},
		{"jitter below duration wins", "  durationMilliseconds: 5000\n  jitterDurationMilliseconds: 2000\n", `{}`, 2 * time.Second, 2 * time.Second, true},
		{"jitter equal to duration", "  durationMilliseconds: 2000\n  jitterDurationMilliseconds: 2000\n", `{}`, 2 * time.Second, 2 * time.Second, true},
		{"jitter above duration: range", "  durationMilliseconds: 1000\n  jitterDurationMilliseconds: 5000\n", `{}`, time.Second, 5 * time.Second, true},
		{"durationFrom RFC 3339 in the future", "  durationMilliseconds: 1000\n" + from, `{"d": "` + future + `"}`, 90 * time.Second, 90 * time.Second, true},
		{"durationFrom RFC 3339 in the past", "  durationMilliseconds: 1000\n" + from, `{"d": "` + past + `"}`, -30 * time.Second, -30 * time.Second, true},
		{"durationFrom Go duration", "  durationMilliseconds: 1000\n" + from, `{"d": "1m30s"}`, 90 * time.Second, 90 * time.Second, true},
		{"durationFrom empty string: not set", "  durationMilliseconds: 1000\n" + from, `{"d": ""}`, 0, 0, false},
		{"durationFrom garbage falls back", "  durationMilliseconds: 1000\n" + from, `{"d": "soon"}`, time.Second, time.Second, true},
		{"durationFrom number falls back", "  durationMilliseconds: 1000\n" + from, `{"d": 5}`, time.Second, time.Second, true},
		{"durationFrom missing falls back", "  durationMilliseconds: 1000\n" + from, `{}`, time.Second, time.Second, true},
		{"durationFrom missing, no ms: 0", from, `{}`, 0, 0, true},
		{"jitterFrom deletionTimestamp = now", "  durationMilliseconds: 1000\n" + jitterFrom, `{"j": "` + now.Format(time.RFC3339) + `"}`, 0, 0, true},
		{"jitterFrom empty: duration only", "  durationMilliseconds: 1000\n  jitterDurationMilliseconds: 5000\n" + jitterFrom, `{"j": ""}`, time.Second, time.Second, true},
		{"jitterFrom missing, no jitter ms: duration only", "  durationMilliseconds: 1000\n" + jitterFrom, `{}`, time.Second, time.Second, true},
		{"jitterFrom duration", "  durationMilliseconds: 1000\n" + jitterFrom, `{"j": "3s"}`, time.Second, 3 * time.Second, true},
		{"past lower bound, future jitter", from + jitterFrom, `{"d": "` + past + `", "j": "` + future + `"}`, -30 * time.Second, 90 * time.Second, true},
		{"CEL durationFrom", "  durationMilliseconds: 1000\n  durationFrom:\n    cel:\n      expression: \"'4s'\"\n", `{}`, 4 * time.Second, 4 * time.Second, true},
		{"CEL durationFrom int is ns", "  durationFrom:\n    cel:\n      expression: '1000'\n", `{}`, 1000, 1000, true},
		// KWOK reads jitterDurationFrom only when it is jq.
		{"CEL jitterDurationFrom is ignored", "  durationMilliseconds: 1000\n  jitterDurationFrom:\n    cel:\n      expression: \"'9s'\"\n", `{}`, time.Second, time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := "selector: {}\n"
			if tc.delay != "" {
				spec += "delay:\n" + tc.delay
			}
			s := mustStage(t, "s", "Pod", spec)
			obj := mustObject(t, tc.obj)
			lo, hi, ok, err := s.DelayRange(obj, now)
			if err != nil {
				t.Fatal(err)
			}
			if lo != tc.lo || hi != tc.hi || ok != tc.ok {
				t.Errorf("DelayRange = [%v, %v] %v, want [%v, %v] %v", lo, hi, ok, tc.lo, tc.hi, tc.ok)
			}
			rng := rand.New(rand.NewPCG(3, 0))
			for range 200 {
				d, err := s.Delay(obj, now, rng)
				if err != nil {
					t.Fatal(err)
				}
				wantLo, wantHi := max(tc.lo, 0), max(tc.hi, 0)
				if d < wantLo || d > wantHi || (tc.hi > tc.lo && d == tc.hi) {
					t.Fatalf("Delay = %v, want in [%v, %v)", d, wantLo, wantHi)
				}
			}
		})
	}
}

func TestDelayDeterministic(t *testing.T) {
	s := mustStage(t, "s", "Pod", "selector: {}\ndelay:\n  durationMilliseconds: 600000\n  jitterDurationMilliseconds: 610000\n")
	draw := func(seed uint64) []time.Duration {
		rng := rand.New(rand.NewPCG(seed, 0))
		out := make([]time.Duration, 50)
		for i := range out {
			d, err := s.Delay(map[string]any{}, kwokNow, rng)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = d
		}
		return out
	}
	a, b := draw(11), draw(11)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("draw %d: %v vs %v with the same seed", i, a[i], b[i])
		}
		if a[i] < 600*time.Second || a[i] >= 610*time.Second {
			t.Fatalf("draw %d: %v outside [600s, 610s)", i, a[i])
		}
	}
}

// A durationFrom or jitterDurationFrom whose value is not a duration falls back as in KWOK,
// and DelayNoted says so; a usable or absent value gives no note.
func TestDelayNotedIgnoredExpression(t *testing.T) {
	const from = "  durationFrom:\n    expressionFrom: .d\n"
	for _, tc := range []struct {
		name, delay, obj string
		want             time.Duration
		note             []string // "" for no note
	}{
		{"garbage string, ms fallback", "  durationMilliseconds: 1000\n" + from, `{"d": "soon"}`, time.Second,
			[]string{"spec.delay.durationFrom.jq.expression \".d\" gave \"soon\"", "spec.delay.durationMilliseconds (1s) is used"}},
		{"number, no ms: 0", from, `{"d": 5}`, 0,
			[]string{"gave 5", "spec.delay.durationMilliseconds (0s) is used"}},
		{"jitter object", "  durationMilliseconds: 1000\n  jitterDurationMilliseconds: 3000\n  jitterDurationFrom:\n    expressionFrom: .j\n", `{"j": {"a": 1}}`, 0,
			[]string{"spec.delay.jitterDurationFrom.jq.expression", "map[a:1]", "spec.delay.jitterDurationMilliseconds (3s) is used"}},
		{"a duration: no note", "  durationMilliseconds: 1000\n" + from, `{"d": "2s"}`, 2 * time.Second, nil},
		{"absent: no note", "  durationMilliseconds: 1000\n" + from, `{}`, time.Second, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustStage(t, "s", "Pod", "selector: {}\ndelay:\n"+tc.delay)
			d, note, err := s.DelayNoted(mustObject(t, tc.obj), kwokNow, rand.New(rand.NewPCG(1, 0)))
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != 0 && d != tc.want {
				t.Errorf("delay %v, want %v", d, tc.want)
			}
			if (note == "") != (tc.note == nil) {
				t.Fatalf("note %q, want one containing %q", note, tc.note)
			}
			for _, w := range tc.note {
				if !strings.Contains(note, w) {
					t.Errorf("note %q lacks %q", note, w)
				}
			}
		})
	}
}

// A CEL durationFrom past what a time.Duration holds is an error, not a wrapped value.
func TestDelayCELOverflow(t *testing.T) {
	for _, expr := range []string{"1e30", "-1e30", "18446744073709551615u"} {
		s := mustStage(t, "s", "Pod", "selector: {}\ndelay:\n  durationFrom:\n    cel:\n      expression: '"+expr+"'\n")
		_, err := s.Delay(map[string]any{}, kwokNow, rand.New(rand.NewPCG(1, 0)))
		if err == nil || !strings.Contains(err.Error(), "more than a duration holds") || !strings.Contains(err.Error(), "spec.delay.durationFrom.cel.expression") {
			t.Errorf("%s: error %v", expr, err)
		}
	}
}
