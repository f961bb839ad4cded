package app

import (
	"io"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
)

// stateOut is --state-out: the file the cluster's final state is written to, as a v1 List
// (`kubectl get -o yaml`'s form), which a later run loads as a snapshot.
type stateOut string

// check rejects a path that cannot be written before the run, so that a long simulation does
// not end without its state: the directory must exist and the path must not be one.
func (p stateOut) check() error {
	if p == "" {
		return nil
	}
	return checkOutputFile("--state-out", string(p))
}

// writer is workloads.Scenario.WriteState for the flag: nil when it is not given; the file is
// written atomically, as --report is.
func (p stateOut) writer() func([]runtime.Object) error {
	if p == "" {
		return nil
	}
	return func(objs []runtime.Object) error {
		return analysis.WriteFileAtomic(string(p), func(w io.Writer) error { return sim.WriteState(w, objs) })
	}
}
