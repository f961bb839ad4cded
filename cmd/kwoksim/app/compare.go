package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kwoksim/kwoksim/analysis"
)

func newCompareCommand() *cobra.Command {
	output := "table"
	cmd := &cobra.Command{
		Use:   "compare A.json B.json",
		Short: "Set two reports side by side: key figures, their differences and the pods placed differently",
		Example: `  kwoksim run --nodes nodes.yaml --workload apps.yaml --seed 1 --report a.json
  kwoksim run --nodes nodes.yaml --workload apps.yaml --seed 2 --report b.json
  kwoksim compare a.json b.json`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return usageError{fmt.Errorf("--output must be table or json, not %q", output)}
			}
			a, err := analysis.ReadReport(args[0])
			if err != nil {
				return inputError{err}
			}
			b, err := analysis.ReadReport(args[1])
			if err != nil {
				return inputError{err}
			}
			cmp := analysis.Compare(a, b, args[0], args[1])
			if output == "json" {
				return analysis.WriteComparisonJSON(c.OutOrStdout(), cmp)
			}
			return analysis.WriteComparisonTable(c.OutOrStdout(), cmp)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", output, "output format: table or json")
	return cmd
}
