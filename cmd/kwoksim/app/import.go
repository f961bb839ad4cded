package app

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kwoksim/kwoksim/workloads/openb"
)

func newImportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Convert a public cluster trace into kwoksim's Node manifests and trace",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newImportOpenbCommand())
	return cmd
}

func newImportOpenbCommand() *cobra.Command {
	var nodes, pods, out string
	cmd := &cobra.Command{
		Use:   "openb --nodes NODES.csv --pods PODS.csv --out DIR",
		Short: "Import the Alibaba GPU cluster trace (openb) into DIR/nodes.yaml and DIR/trace.jsonl",
		Long: `Import the Alibaba GPU cluster trace (alibaba/clusterdata cluster-trace-gpu-v2023, "openb")
into DIR/nodes.yaml (one Node per node-list line) and DIR/trace.jsonl (each pod applied at its
creation_time and deleted at its deletion_time). GPUs become the extended resource
kwoksim.io/gpu-milli and GPU models the node label kwoksim.io/gpu-model.

Nothing is written unless both CSV files are valid; each output file is replaced atomically.`,
		Example: `  kwoksim import openb --nodes openb_node_list_all_node.csv --pods openb_pod_list_default.csv --out openb/`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			sum, err := openb.Import(nodes, pods, out)
			var bad *openb.Error
			if errors.As(err, &bad) {
				return inputError{err}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "imported %d nodes and %d pods (%d events) into %s\n", sum.Nodes, sum.Pods, sum.Events, out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&nodes, "nodes", "", "node list CSV (sn,cpu_milli,memory_mib,gpu,model)")
	fl.StringVar(&pods, "pods", "", "pod list CSV (name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,creation_time,deletion_time,...)")
	fl.StringVar(&out, "out", "", "output directory, created if needed")
	for _, name := range []string{"nodes", "pods", "out"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}
