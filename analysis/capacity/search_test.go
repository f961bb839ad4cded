package capacity

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
)

// fake is an evaluator whose goal holds for the counts pass accepts; it records the counts
// asked for and the most runs it saw at once.
type fake struct {
	pass func(template, nodes int) bool

	mu            sync.Mutex
	calls         [][]int // per template, in the order started
	running, peak int
}

func newFake(templates int, pass func(template, nodes int) bool) *fake {
	return &fake{pass: pass, calls: make([][]int, templates)}
}

func (f *fake) eval(_ context.Context, t, n int) (Run, error) {
	f.mu.Lock()
	f.calls[t] = append(f.calls[t], n)
	f.running++
	f.peak = max(f.peak, f.running)
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.running--; f.mu.Unlock() }()
	return Run{Nodes: -1, Passed: f.pass(t, n), Utilization: map[string]float64{}, FailedAssertions: []string{}}, nil
}

func atLeast(k int) func(int, int) bool { return func(_, n int) bool { return n >= k } }

func nodesOf(runs []Run) []int {
	out := []int{}
	for _, r := range runs {
		out = append(out, r.Nodes)
	}
	return out
}

func search(t *testing.T, templates []Template, opts Options, f *fake) *Plan {
	t.Helper()
	p, err := Search(context.Background(), templates, opts, f.eval)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var one = []Template{{Name: "t", File: "t.yaml"}}

// The exact counts tried: exponential, then bisection (parallel 1) or a k-ary search.
func TestSearchSequences(t *testing.T) {
	for _, tc := range []struct {
		name      string
		parallel  int
		maxNodes  int
		threshold int
		runs      []int
		needed    int // -1: none
	}{
		// 0 1 2 4 8 fail, 16 passes; then 12 passes, 10 passes, 9 fails.
		{"bisection", 1, 1000, 10, []int{0, 1, 2, 4, 8, 9, 10, 12, 16}, 10},
		// [0 1 2 4] fail; [8 16 32 64]: 16 passes; (8,16) in five parts: [9 11 12 14], 9 fails,
		// 11 passes; (9,11): [10] passes.
		{"four at a time", 4, 1000, 10, []int{0, 1, 2, 4, 8, 9, 10, 11, 12, 14, 16, 32, 64}, 10},
		// [0 1] fail, [2 4] fail, [8 16]: 16 passes; (8,16) in three parts: [10 13] pass; (8,10): [9] fails.
		{"two at a time", 2, 1000, 10, []int{0, 1, 2, 4, 8, 9, 10, 13, 16}, 10},
		{"the given nodes suffice", 1, 1000, 0, []int{0}, 0},
		{"the given nodes suffice, four at a time", 4, 1000, 0, []int{0, 1, 2, 4}, 0},
		// The last exponential candidate is max itself, not the next power of two.
		{"max passes", 1, 10, 10, []int{0, 1, 2, 4, 8, 9, 10}, 10},
		{"max fails", 1, 10, 11, []int{0, 1, 2, 4, 8, 10}, -1},
		{"max fails, three at a time", 3, 10, 11, []int{0, 1, 2, 4, 8, 10}, -1},
		{"max 0", 4, 0, 1, []int{0}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(1, atLeast(tc.threshold))
			p := search(t, one, Options{MaxNodes: tc.maxNodes, Parallel: tc.parallel}, f)
			tp := p.Templates[0]
			if got := nodesOf(tp.Runs); !reflect.DeepEqual(got, tc.runs) {
				t.Errorf("runs %v, want %v", got, tc.runs)
			}
			if len(f.calls[0]) != len(tc.runs) {
				t.Errorf("%d evaluations for %d runs: %v", len(f.calls[0]), len(tc.runs), f.calls[0])
			}
			if f.peak > tc.parallel {
				t.Errorf("%d runs at once, parallel %d", f.peak, tc.parallel)
			}
			for _, r := range tp.Runs {
				if r.Passed != (r.Nodes >= tc.threshold) {
					t.Errorf("run %d: passed %v", r.Nodes, r.Passed)
				}
			}
			switch {
			case tc.needed < 0 && tp.NodesNeeded != nil:
				t.Errorf("nodesNeeded %d, want none", *tp.NodesNeeded)
			case tc.needed >= 0 && (tp.NodesNeeded == nil || *tp.NodesNeeded != tc.needed):
				t.Errorf("nodesNeeded %v, want %d", tp.NodesNeeded, tc.needed)
			}
			if tc.needed < 0 && !reflect.DeepEqual(tp.Warnings, []string{fmt.Sprintf("the goal was not met with up to %d nodes of the template", tc.maxNodes)}) {
				t.Errorf("warnings %q", tp.Warnings)
			}
			if tc.needed >= 0 && len(tp.Warnings) != 0 {
				t.Errorf("warnings %q", tp.Warnings)
			}
		})
	}
}

// Whatever the batch size, a monotonic goal gets the same answer: the threshold, or none
// beyond max.
func TestSearchAnswerDoesNotDependOnParallel(t *testing.T) {
	for _, maxNodes := range []int{1, 7, 64, 100} {
		for threshold := 0; threshold <= maxNodes+1; threshold++ {
			for _, parallel := range []int{1, 2, 3, 4, 8} {
				p := search(t, one, Options{MaxNodes: maxNodes, Parallel: parallel}, newFake(1, atLeast(threshold)))
				got := p.Templates[0].NodesNeeded
				if threshold > maxNodes {
					if got != nil {
						t.Errorf("max %d, threshold %d, parallel %d: nodesNeeded %d, want none", maxNodes, threshold, parallel, *got)
					}
				} else if got == nil || *got != threshold {
					t.Errorf("max %d, threshold %d, parallel %d: nodesNeeded %v, want %d", maxNodes, threshold, parallel, got, threshold)
				}
			}
		}
	}
}

// More nodes, worse outcome: 2 passes and 4 fails. Bisection never sees it; four at a time
// tries 4 in the same batch as 2 and says so.
func TestSearchReportsNonMonotonic(t *testing.T) {
	pass := func(_, n int) bool { return n >= 2 && n != 4 }
	p := search(t, one, Options{MaxNodes: 100, Parallel: 1}, newFake(1, pass))
	if tp := p.Templates[0]; *tp.NodesNeeded != 2 || len(tp.Warnings) != 0 || !reflect.DeepEqual(nodesOf(tp.Runs), []int{0, 1, 2}) {
		t.Errorf("parallel 1: needed %v, runs %v, warnings %q", *tp.NodesNeeded, nodesOf(tp.Runs), tp.Warnings)
	}
	p = search(t, one, Options{MaxNodes: 100, Parallel: 4}, newFake(1, pass))
	tp := p.Templates[0]
	if *tp.NodesNeeded != 2 || !reflect.DeepEqual(nodesOf(tp.Runs), []int{0, 1, 2, 4}) {
		t.Errorf("parallel 4: needed %v, runs %v", *tp.NodesNeeded, nodesOf(tp.Runs))
	}
	if want := []string{"non-monotonic: 4 nodes fail the goal although 2 pass"}; !reflect.DeepEqual(tp.Warnings, want) {
		t.Errorf("warnings %q, want %q", tp.Warnings, want)
	}

	// A failure above the first pass in the exponential phase: 16 passes, 32 fails, 64
	// passes. The answer is still bracketed from below: (8,16) is searched.
	pass = func(_, n int) bool { return n >= 12 && n != 32 }
	p = search(t, one, Options{MaxNodes: 1000, Parallel: 4}, newFake(1, pass))
	tp = p.Templates[0]
	if *tp.NodesNeeded != 12 {
		t.Errorf("needed %d, want 12", *tp.NodesNeeded)
	}
	if want := []string{"non-monotonic: 32 nodes fail the goal although 16 pass"}; !reflect.DeepEqual(tp.Warnings, want) {
		t.Errorf("warnings %q, want %q", tp.Warnings, want)
	}
}

// Templates are searched side by side in one pool: each gets its own sequence, as if alone,
// and no more than parallel runs go at once.
func TestSearchTemplatesShareThePool(t *testing.T) {
	five, ten := 5.0, 3.5
	templates := []Template{{Name: "small", File: "s.yaml", CostPerNode: &five}, {Name: "big", File: "b.yaml", CostPerNode: &ten}, {Name: "free", File: "f.yaml"}}
	thresholds := []int{10, 3, 6}
	f := newFake(3, func(t, n int) bool { return n >= thresholds[t] })
	p := search(t, templates, Options{MaxNodes: 1000, Parallel: 2}, f)
	if f.peak > 2 {
		t.Errorf("%d runs at once, parallel 2", f.peak)
	}
	for i, tp := range p.Templates {
		alone := search(t, one, Options{MaxNodes: 1000, Parallel: 2}, newFake(1, atLeast(thresholds[i])))
		if !reflect.DeepEqual(nodesOf(tp.Runs), nodesOf(alone.Templates[0].Runs)) {
			t.Errorf("%s: runs %v, alone %v", tp.Name, nodesOf(tp.Runs), nodesOf(alone.Templates[0].Runs))
		}
		if *tp.NodesNeeded != thresholds[i] {
			t.Errorf("%s: needed %d, want %d", tp.Name, *tp.NodesNeeded, thresholds[i])
		}
	}
	// 10 × 5 and 3 × 3.5; the template without a cost annotation has no cost.
	if c := p.Templates[0].Cost; c == nil || *c != 50 {
		t.Errorf("small: cost %v, want 50", c)
	}
	if c := p.Templates[1].Cost; c == nil || *c != 10.5 {
		t.Errorf("big: cost %v, want 10.5", c)
	}
	if p.Templates[2].Cost != nil || p.Templates[2].CostPerNode != nil {
		t.Errorf("free: cost %v per node %v, want none", p.Templates[2].Cost, p.Templates[2].CostPerNode)
	}
}

// An interrupt while a batch runs: the runs that finished are kept, the answer is what they
// establish, and nothing starts afterwards.
func TestSearchInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stopAt int // the run during which the interrupt comes
		runs   []int
		needed int // -1: none
	}{
		// Bisection for 10: 0 1 2 4 8 16 12 10 9; stopped during 9, nothing established.
		{"before the answer", 9, []int{0, 1, 2, 4, 8, 10, 12, 16}, -1},
		// Stopped during 12: 0 1 2 4 8 16 finished.
		{"early", 12, []int{0, 1, 2, 4, 8, 16}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var calls []int
			eval := func(ctx context.Context, _, n int) (Run, error) {
				calls = append(calls, n)
				if n == tc.stopAt {
					cancel()
					return Run{}, ErrIncomplete
				}
				return Run{Passed: n >= 10}, nil
			}
			p, err := Search(ctx, one, Options{MaxNodes: 1000, Parallel: 1}, eval)
			if err != nil {
				t.Fatal(err)
			}
			tp := p.Templates[0]
			if !p.Incomplete || !reflect.DeepEqual(nodesOf(tp.Runs), tc.runs) || calls[len(calls)-1] != tc.stopAt {
				t.Errorf("incomplete %v, runs %v, calls %v", p.Incomplete, nodesOf(tp.Runs), calls)
			}
			if tc.needed < 0 && tp.NodesNeeded != nil {
				t.Errorf("nodesNeeded %d, want none", *tp.NodesNeeded)
			}
			if want := []string{"interrupted before the runs that finished established an answer"}; !reflect.DeepEqual(tp.Warnings, want) {
				t.Errorf("warnings %q", tp.Warnings)
			}
		})
	}
}

// An interrupt after the runs establish the answer keeps it. Threshold 9, four at a time:
// [0 1 2 4] and [8 16 32 64] (8 fails, 16 passes), then [9 11 12 14]; the interrupt comes
// during 11, after 9 passed.
func TestSearchInterruptedKeepsAnEstablishedAnswer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nineDone := make(chan struct{})
	eval := func(_ context.Context, _, n int) (Run, error) {
		switch n {
		case 9:
			defer close(nineDone)
		case 11:
			<-nineDone
			cancel()
			return Run{}, ErrIncomplete
		}
		return Run{Passed: n >= 9}, nil
	}
	p, err := Search(ctx, one, Options{MaxNodes: 1000, Parallel: 4}, eval)
	if err != nil {
		t.Fatal(err)
	}
	tp := p.Templates[0]
	if !p.Incomplete || tp.NodesNeeded == nil || *tp.NodesNeeded != 9 || len(tp.Warnings) != 0 {
		t.Fatalf("incomplete %v, needed %v, warnings %q", p.Incomplete, tp.NodesNeeded, tp.Warnings)
	}
	// 12 and 14 may or may not have started before the interrupt; 11 never finished.
	for _, r := range tp.Runs {
		if r.Nodes == 11 {
			t.Errorf("the interrupted run is listed")
		}
	}
}

// A run that fails ends the search with its error, naming the template and the count.
func TestSearchRunError(t *testing.T) {
	boom := errors.New("testdata/x.yaml:3: bad")
	eval := func(_ context.Context, tmpl, n int) (Run, error) {
		if n == 4 {
			return Run{}, boom
		}
		return Run{Passed: n >= 100}, nil
	}
	_, err := Search(context.Background(), []Template{{Name: "a"}, {Name: "b"}}, Options{MaxNodes: 100, Parallel: 2}, eval)
	// Both templates fail at 4 nodes. Searched side by side, whichever fails first stops
	// the other, maybe before it reaches 4 nodes: which of the two is named depends on
	// goroutine timing (an error ends the plan either way), so either is right.
	var re *RunError
	if !errors.As(err, &re) || (re.Template != "a" && re.Template != "b") || re.Nodes != 4 || !errors.Is(err, boom) {
		t.Fatalf("error %v, want a template's run with 4 nodes failing", err)
	}
	if want := "testdata/x.yaml:3: bad (the run with 4 nodes of template " + re.Template + ")"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}
