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
	var nodes, pods, out, gpu string
	cmd := &cobra.Command{
		Use:   "openb --nodes NODES.csv --pods PODS.csv --out DIR",
		Short: "Import the Alibaba GPU cluster trace (openb) into DIR/nodes.yaml and DIR/trace.jsonl",
		Long: `Import the Alibaba GPU cluster trace (alibaba/clusterdata cluster-trace-gpu-v2023, "openb")
into DIR/nodes.yaml (one Node per node-list line) and DIR/trace.jsonl (each pod applied at its
creation_time and deleted at its deletion_time). GPU models become the node label
kwoksim.io/gpu-model. With --gpu pooled (the default) a node's GPUs become the extended
resource kwoksim.io/gpu-milli; with --gpu dra each card is a shared device (the node's
kwoksim.io/devices annotation, 1000 gpuMilli each) and a GPU pod claims its share through a
ResourceClaimTemplate, one per request shape, which the trace applies at t=0 with the
DeviceClass "gpu".

Nothing is written unless both CSV files are valid; each output file is replaced atomically.`,
		Example: `  kwoksim import openb --nodes openb_node_list_all_node.csv --pods openb_pod_list_default.csv --out openb/
  kwoksim import openb --gpu dra --nodes openb_node_list_all_node.csv --pods openb_pod_list_default.csv --out openb-dra/`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			mode, err := openb.ParseGPUMode(gpu)
			if err != nil {
				return inputError{fmt.Errorf("--gpu: %w", err)}
			}
			sum, err := openb.Import(nodes, pods, out, openb.Options{GPU: mode})
			var bad *openb.Error
			if errors.As(err, &bad) {
				return inputError{err}
			}
			if err != nil {
				return err
			}
			if mode == openb.GPUDRA {
				fmt.Fprintf(c.OutOrStdout(), "imported %d nodes and %d pods (%d events; DeviceClass %s and %d ResourceClaimTemplates applied at t=0) into %s\n",
					sum.Nodes, sum.Pods, sum.Events, openb.DeviceClassName, sum.Templates, out)
				return nil
			}
			fmt.Fprintf(c.OutOrStdout(), "imported %d nodes and %d pods (%d events) into %s\n", sum.Nodes, sum.Pods, sum.Events, out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&nodes, "nodes", "", "node list CSV (sn,cpu_milli,memory_mib,gpu,model)")
	fl.StringVar(&pods, "pods", "", "pod list CSV (name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,creation_time,deletion_time,...)")
	fl.StringVar(&out, "out", "", "output directory, created if needed")
	fl.StringVar(&gpu, "gpu", string(openb.GPUPooled), "GPU mapping: pooled (extended resource kwoksim.io/gpu-milli per node) or dra (a device per card, claims from templates)")
	for _, name := range []string{"nodes", "pods", "out"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}
