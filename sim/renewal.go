package sim

import (
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
	"reflect"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/stages"
)

// A periodic stage on an object at rest, such as KWOK's node heartbeat, renews timestamps and
// nothing else, every ten minutes per node: over the openb trace's 149 days and 1,523 nodes that
// is 32 million transitions that change nothing anyone reads. The stage runner elides them: when
// a periodic stage's transition has just written the object and a dry run shows its next one to
// be a renewal, that one is not scheduled at all. (Only then: the dry run renders the stage,
// and an object's first transition, or the first after someone else's write, may never come
// in a run that ends before it; it is performed as usual.) Its
// renewals are counted when the object is next written or deleted, and when the run is
// observed: each renewal that fell due before then goes into a per-stage tally of delays, and
// the object keeps the timestamps of the last transition that really ran.
//
// A transition counts as a renewal when nothing can tell one renewal from the next:
//   - it is the only stage that matches the object, before and after its own steps, so no
//     other stage is picked instead and no other stage starts to match;
//   - its delay is fixed by the stage (no durationFrom/jitterDurationFrom reading the object)
//     and positive;
//   - its steps only patch (no event, finalizer, delete or apply), and applying them changes
//     nothing in the object but timestamps (RFC 3339 strings).
//
// Renewal delays are drawn from an RNG of their own per chain (seeded by the run's seed, the
// object's UID and the chain's start), so when the renewals are counted does not change any
// other draw, and at millisecond resolution (KWOK's unit for delays), so the tally of a stage
// holds at most one entry per millisecond of its jitter range.

// renewals is one object's chain of elided transitions.
type renewals struct {
	kind  string
	stage *stages.Stage
	// due is when the next renewal happens; delay is what it waited.
	due    time.Time
	delay  time.Duration
	lo, hi time.Duration
	rng    *rand.Rand
}

type tallyKey struct{ kind, stage string }

// elidable reports whether the transition of stage planned for obj (o is its JSON form, and
// stage the only stage that matched it) is a renewal, and if so returns the chain for it,
// starting with the delay already drawn.
func (r *stageRunner) elidable(kind string, ref objectRef, stage *stages.Stage, o map[string]any, obj runtime.Object, delay time.Duration) *renewals {
	if r.keepRenewals {
		return nil
	}
	lo, hi, ok := stage.FixedDelayRange()
	if !ok || lo <= 0 {
		return nil
	}
	before, after, ok := r.dryRun(stage, o, obj, true)
	if !ok || !sameButTimestamps(before, after) {
		return nil
	}
	matched, err := stages.Match(r.stages, kind, after)
	if err != nil || len(matched) != 1 || matched[0] != stage {
		return nil
	}
	now := r.clock.Now()
	return &renewals{
		kind: kind, stage: stage, due: now.Add(delay), delay: delay, lo: lo, hi: hi,
		rng: rand.New(rand.NewPCG(r.seed^uidHash(ref.uid), uint64(now.UnixNano()))),
	}
}

// dryRun renders the stage's steps for the object and applies their patches (and finalizer
// changes, unless patchesOnly) to a copy, returning the object's JSON form before and after.
// ok is false when a step deletes or applies, when patchesOnly and a step does more than
// patch, or when anything fails.
func (r *stageRunner) dryRun(stage *stages.Stage, o map[string]any, obj runtime.Object, patchesOnly bool) (before, after map[string]any, ok bool) {
	steps, err := stage.Steps(o, r.env(stage.Kind, o))
	if err != nil {
		return nil, nil, false
	}
	orig, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, false
	}
	cur := orig
	for _, st := range steps {
		if st.Delete || st.Apply != nil || (patchesOnly && (st.Event != nil || st.Finalizers != nil)) {
			return nil, nil, false
		}
		if st.Finalizers != nil {
			if cur, err = applyPatch(cur, types.JSONPatchType, st.Finalizers.Data, obj); err != nil {
				return nil, nil, false
			}
		}
		if st.Patch != nil {
			if cur, err = applyPatch(cur, stages.PatchType(st.Patch.Type), st.Patch.Data, obj); err != nil {
				return nil, nil, false
			}
		}
	}
	if json.Unmarshal(orig, &before) != nil || json.Unmarshal(cur, &after) != nil {
		return nil, nil, false
	}
	return before, after, true
}

// sameButTimestamps reports whether a and b (decoded JSON) are equal except for strings that
// are RFC 3339 times on both sides.
func sameButTimestamps(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameButTimestamps(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameButTimestamps(x[i], y[i]) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		if !ok {
			return false
		}
		return x == y || (isTimestamp(x) && isTimestamp(y))
	default:
		return reflect.DeepEqual(a, b)
	}
}

func isTimestamp(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

func uidHash(uid types.UID) uint64 {
	h := fnv.New64a()
	h.Write([]byte(uid))
	return h.Sum64()
}

// settle counts the chain's renewals due at or before t into the tallies and moves the chain
// past them.
func (r *stageRunner) settle(c *renewals, t time.Time) {
	if c.due.After(t) {
		return
	}
	k := tallyKey{c.kind, c.stage.Name}
	tally := r.tallies[k]
	if tally == nil {
		tally = map[time.Duration]int64{}
		r.tallies[k] = tally
	}
	for !c.due.After(t) {
		tally[c.delay]++
		c.delay = c.draw()
		c.due = c.due.Add(c.delay)
	}
}

// draw is the next renewal's delay: uniform over [lo, hi) at millisecond resolution (or
// nanosecond, for a range under a millisecond), as Stage.Delay draws it.
func (c *renewals) draw() time.Duration {
	span := c.hi - c.lo
	switch {
	case span <= 0:
		return c.lo
	case span < time.Millisecond:
		return c.lo + time.Duration(c.rng.Int64N(int64(span)))
	default:
		return c.lo + time.Duration(c.rng.Int64N(int64(span/time.Millisecond)))*time.Millisecond
	}
}

// endChain counts an object's renewals up to now and forgets its chain: the object changed or
// went away, and its next transition is planned anew.
func (r *stageRunner) endChain(ref objectRef) {
	if c := r.renewing[ref]; c != nil {
		r.settle(c, r.clock.Now())
		delete(r.renewing, ref)
	}
}

// renewalTallies counts every chain's renewals up to now and returns the tallies, sorted by
// kind and stage.
func (r *stageRunner) renewalTallies() []analysis.TransitionTally {
	now := r.clock.Now()
	for _, c := range r.renewing {
		r.settle(c, now) // each chain has its own RNG: the order does not matter
	}
	out := make([]analysis.TransitionTally, 0, len(r.tallies))
	for k, d := range r.tallies {
		out = append(out, analysis.TransitionTally{Kind: k.kind, Stage: k.stage, Delays: d})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Stage < out[j].Stage
	})
	return out
}
