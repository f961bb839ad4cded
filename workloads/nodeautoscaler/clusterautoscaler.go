package nodeautoscaler

import "errors"

// startClusterAutoscaler starts the cluster-autoscaler behaviour (being written: issue 21).
func startClusterAutoscaler(rt *Runtime) error {
	return errors.New("the cluster-autoscaler behaviour is not written yet")
}
