package workloads

import "fmt"

// daemonSetController is not written yet: objects of the kind are stored and reported, and a
// warning says nothing runs them.
func (c *Controllers) daemonSetController() controllerDef {
	return controllerDef{kind: "DaemonSet", sync: func(ns, name string) error {
		return fmt.Errorf("the DaemonSet controller is not implemented yet")
	}}
}
