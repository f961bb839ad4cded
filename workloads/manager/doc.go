// Package manager runs workload controllers on a simulated cluster, as kube-controller-manager
// runs them on a real one: it hands every change to the controllers that care, gives each a
// work queue on the virtual clock, indexes the objects each object controls, and deletes the
// dependents whose owners are all gone, as the garbage collector does (gc.go).
//
// Every sync runs as an event on the virtual clock at the instant of the change that asked for
// it, in the order the changes happened, so a run is reproducible. A controller registers with
// Register and gets its Queue; it reads through the Manager (Get, OwnedBy) and writes through
// the simulator's API. Controllers never write from a watch callback (sim.Watcher's rule):
// they ask their Queue for a sync instead.
package manager
