package workloads

import "fmt"

// statefulSetController is not written yet: objects of the kind are stored and reported, and a
// warning says nothing runs them.
func (c *Controllers) statefulSetController() controllerDef {
	return controllerDef{kind: "StatefulSet", sync: func(ns, name string) error {
		return fmt.Errorf("the StatefulSet controller is not implemented yet")
	}}
}
