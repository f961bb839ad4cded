package capacity

// searcher decides which counts of one template to simulate next. It is pure: it sees only
// the outcomes recorded, never how long a run took or which finished first, so the counts it
// asks for depend only on the outcomes and on the batch size.
//
// It runs in two phases. First exponential: 0, 1, 2, 4, 8, … up to max (max itself last),
// batch counts at a time, until some count passes. Then a k-ary search of the interval
// between the largest failing count below the smallest passing one (lo) and that passing
// one (hi): each batch splits it into batch+1 nearly equal parts.
type searcher struct {
	batch    int
	expo     []int // the exponential candidates
	nextExpo int   // index of the next one to ask for
	found    bool  // some count passed: the k-ary phase
	lo, hi   int   // lo fails (-1: none below hi), hi passes, once found
}

func newSearcher(maxNodes, batch int) *searcher {
	expo := []int{0}
	for n := 1; n < maxNodes; n *= 2 {
		expo = append(expo, n)
	}
	if maxNodes > 0 {
		expo = append(expo, maxNodes)
	}
	return &searcher{batch: max(batch, 1), expo: expo, lo: -1}
}

// next returns the counts to simulate next, in increasing order; none once the search is
// over (the answer is established, or max failed).
func (s *searcher) next() []int {
	if !s.found {
		end := min(s.nextExpo+s.batch, len(s.expo))
		out := append([]int(nil), s.expo[s.nextExpo:end]...)
		s.nextExpo = end
		return out
	}
	gap := s.hi - s.lo
	if gap <= 1 {
		return nil
	}
	k := min(s.batch, gap-1)
	out := make([]int, k)
	for i := range out {
		// Strictly increasing and strictly inside (lo, hi), because gap ≥ k+1.
		out[i] = s.lo + (i+1)*gap/(k+1)
	}
	return out
}

// record takes the outcomes of the counts next returned (passed[i] for counts[i], counts
// increasing). The smallest passing count becomes hi and the largest failing count below it
// lo; outcomes outside (lo, hi) cannot change either.
func (s *searcher) record(counts []int, passed []bool) {
	hi := -1
	for i, n := range counts {
		if passed[i] && (!s.found || n < s.hi) {
			hi = n
			break
		}
	}
	if hi >= 0 {
		s.found, s.hi = true, hi
	}
	for i, n := range counts {
		if !passed[i] && n > s.lo && (!s.found || n < s.hi) {
			s.lo = n
		}
	}
}
