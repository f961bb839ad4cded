package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kwoksim/kwoksim/analysis/capacity"
	"github.com/kwoksim/kwoksim/sim"
)

// planDynamic is plan's answer when the inputs have NodePools: no search over node counts
// (the autoscaler decides them), but one run of the inputs with the node autoscaler scaling
// the pools, and what that cost and how long pods waited for capacity.
func planDynamic(c *cobra.Command, f *planFlags, in *planInputs) error {
	args := append([]string{"run"}, forwardArgs(c.Flags())...)
	if !c.Flags().Changed("autoscaler") {
		// The run would choose the same; naming it keeps the run's command line explicit.
		args = append(args, "--autoscaler", in.autoscaler.Autoscaler)
	}
	listenForInterrupts() // the run stops at an interrupt and the plan reports what it reached
	res := runChild(c.Context(), append(args, memoryShareArgs(c.Flags().Changed(sim.MaxMemoryFlag[2:]), 1)...))
	if res.Report == nil {
		if res.Interrupted() {
			return planInterrupted{}
		}
		err := childFailure{exit: res.Exit, err: res.Err}
		if res.Exit == exitBadInput {
			return inputError{err}
		}
		return err
	}
	d, err := capacity.Dynamic(res.Report, in.checks, in.note)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.ErrOrStderr(), "kwoksim: plan: %s: %s\n", d.Autoscaler, outcome(d.Run))
	plan := capacity.NewDynamicPlan(d, capacity.Options{Parallel: 1, GivenNodes: in.givenNodes, Assertions: f.asserts})
	plan.Incomplete = res.Report.Incomplete
	if err := writePlan(c.OutOrStdout(), f, plan); err != nil {
		return err
	}
	switch {
	case plan.Incomplete:
		return planInterrupted{}
	case !d.Run.Passed:
		return dynamicGoalNotMet{autoscaler: d.Autoscaler}
	}
	return nil
}

// dynamicGoalNotMet is a dynamic plan whose run did not meet the goal (exit 1, like a failed
// assertion): pods no pool could take, or the pools' max reached.
type dynamicGoalNotMet struct{ autoscaler string }

func (e dynamicGoalNotMet) Error() string {
	return fmt.Sprintf("the goal was not met with the NodePools scaled by %s", e.autoscaler)
}
func (dynamicGoalNotMet) Unwrap() error { return assertionFailure{} }
