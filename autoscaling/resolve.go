package autoscaling

import "fmt"

// DefaultNote is the note a run's report carries when Resolve chose the autoscaler: the user
// gave NodePools and no --autoscaler.
const DefaultNote = "the inputs have NodePools and no --autoscaler was given: the run models cluster-autoscaler " +
	"(--autoscaler karpenter models Karpenter; --autoscaler none reads the pools without acting on them)"

// Resolve settles an unset Autoscaler from the inputs: None without NodePools, and
// ClusterAutoscaler (the common one) with them, in which case it returns the note the report
// should carry that it chose for the user (DefaultNote). A set Autoscaler is kept, and the note
// is empty.
func (o *Options) Resolve(havePools bool) (note string) {
	if o.Autoscaler != "" {
		return ""
	}
	if !havePools {
		o.Autoscaler = None
		return ""
	}
	o.Autoscaler = ClusterAutoscaler
	return DefaultNote
}

// CheckPools refuses an autoscaler with no NodePools to act on: a run asked to model
// cluster-autoscaler or Karpenter without pools would silently do nothing. None with pools is
// allowed: the pools are read and listed as not acted on.
func (o *Options) CheckPools(havePools bool) error {
	if havePools || o.Autoscaler == "" || o.Autoscaler == None {
		return nil
	}
	return fmt.Errorf("--autoscaler %s: the inputs have no NodePool (kind NodePool, apiVersion kwoksim/v1alpha1, in --workload or -f) for it to scale; "+
		"give one, or leave --autoscaler out", o.Autoscaler)
}
