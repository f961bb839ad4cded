package nodeautoscaler

import "errors"

// startKarpenter starts the Karpenter behaviour (being written: issue 21).
func startKarpenter(rt *Runtime) error {
	return errors.New("the karpenter behaviour is not written yet")
}
