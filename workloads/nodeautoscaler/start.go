package nodeautoscaler

import (
	"fmt"

	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
)

// Start runs the chosen autoscaler behaviour on the pools: see New for what happens at t=0.
// opts.Autoscaler must be autoscaling.ClusterAutoscaler or autoscaling.Karpenter. Call it
// before the run.
func Start(s *sim.Simulator, pools []*autoscaling.NodePool, opts autoscaling.Options) (*Runtime, error) {
	switch opts.Autoscaler {
	case autoscaling.ClusterAutoscaler, autoscaling.Karpenter:
	default:
		return nil, fmt.Errorf("no such autoscaler %q", opts.Autoscaler)
	}
	rt, err := New(s, pools, opts)
	if err != nil {
		return nil, err
	}
	if opts.Autoscaler == autoscaling.ClusterAutoscaler {
		err = startClusterAutoscaler(rt)
	} else {
		err = startKarpenter(rt)
	}
	return rt, err
}
