package capacity

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Options set the search; GivenNodes and Assertions are only recorded in the plan.
type Options struct {
	// MaxNodes is the largest count of a template tried.
	MaxNodes int
	// Parallel is how many runs are simulated at once, across all templates, and how many
	// counts of one template are asked for at a time.
	Parallel   int
	GivenNodes int
	Assertions []string
}

// An Evaluator simulates the given nodes plus nodes copies of templates[template] and says
// whether the run met the goal. It returns ErrIncomplete when ctx ended the run before it
// finished, and any other error when the run itself failed. It is called from several
// goroutines at once.
type Evaluator func(ctx context.Context, template, nodes int) (Run, error)

// ErrIncomplete is an evaluator's answer for a run an interrupt stopped.
var ErrIncomplete = errors.New("the run was interrupted")

// RunError is a run that failed: it ends the plan.
type RunError struct {
	Template string
	Nodes    int
	Err      error
}

func (e *RunError) Error() string {
	return fmt.Sprintf("%v (the run with %d nodes of template %s)", e.Err, e.Nodes, e.Template)
}

func (e *RunError) Unwrap() error { return e.Err }

// Search finds, for each template, the smallest count that meets the goal. Templates are
// searched side by side, their runs sharing opts.Parallel slots; which run finishes first
// changes nothing in the plan, because each template's next counts depend only on the
// outcomes of its earlier ones.
//
// When ctx ends (an interrupt), no run is started any more, the running ones are left to
// stop (the evaluator returns ErrIncomplete), and the plan holds the runs that finished,
// marked Incomplete. A run that fails stops the others the same way, and Search returns its
// *RunError: of the first template among those that failed (when several fail side by side,
// the first to fail may stop the others before they do), with its smallest failing count.
func Search(ctx context.Context, templates []Template, opts Options, eval Evaluator) (*Plan, error) {
	if opts.Parallel < 1 {
		opts.Parallel = 1
	}
	plan := newPlan(templates, opts)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := make(chan struct{}, opts.Parallel)
	errs := make([]*RunError, len(templates))
	incomplete := make([]bool, len(templates))
	var wg sync.WaitGroup
	for i := range templates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs, stopped, err := searchOne(ctx, slots, opts, func(ctx context.Context, n int) (Run, error) { return eval(ctx, i, n) })
			plan.Templates[i].Runs = runs
			incomplete[i] = stopped
			if err != nil {
				errs[i] = &RunError{Template: templates[i].Name, Nodes: err.nodes, Err: err.err}
			}
			if stopped || err != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	for i := range plan.Templates {
		plan.Incomplete = plan.Incomplete || incomplete[i]
	}
	for i := range plan.Templates {
		conclude(&plan.Templates[i], opts.MaxNodes, plan.Incomplete)
	}
	return plan, nil
}

type countError struct {
	nodes int
	err   error
}

// searchOne searches one template: batches of counts from its searcher, each run in a slot
// of its own. It returns the runs that finished, whether the search was stopped before its
// end, and the failure (with the smallest count) of a batch in which runs failed.
func searchOne(ctx context.Context, slots chan struct{}, opts Options, eval func(context.Context, int) (Run, error)) ([]Run, bool, *countError) {
	s := newSearcher(opts.MaxNodes, opts.Parallel)
	var done []Run
	for {
		counts := s.next()
		if len(counts) == 0 {
			return sortRuns(done), false, nil
		}
		runs := make([]Run, len(counts))
		errs := make([]error, len(counts))
		var wg sync.WaitGroup
		for j, n := range counts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					errs[j] = ErrIncomplete
					return
				}
				defer func() { <-slots }()
				if ctx.Err() != nil { // the slot and the end may have come together
					errs[j] = ErrIncomplete
					return
				}
				runs[j], errs[j] = eval(ctx, n)
				runs[j].Nodes = n
				if runs[j].FailingWorkloads == nil { // the plan's JSON has [] for none
					runs[j].FailingWorkloads = []string{}
				}
			}()
		}
		wg.Wait()
		stopped := false
		passed := make([]bool, len(counts))
		for j, n := range counts {
			switch {
			case errs[j] == nil:
				done = append(done, runs[j])
				passed[j] = runs[j].Passed
			case errors.Is(errs[j], ErrIncomplete):
				stopped = true
			default:
				return sortRuns(done), true, &countError{nodes: n, err: errs[j]}
			}
		}
		if stopped {
			return sortRuns(done), true, nil
		}
		s.record(counts, passed)
	}
}

func sortRuns(runs []Run) []Run {
	sort.Slice(runs, func(i, j int) bool { return runs[i].Nodes < runs[j].Nodes })
	return runs
}
