package workloads

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// What a run tells about its inputs: what was skipped, what is stored but not acted on.

// notActedOn are the kinds the simulator stores (or, for NodePool, reads) but no simulated controller acts on, with what
// a real cluster would do with them. A kind leaves this table when a controller for it lands.
var notActedOn = map[string]string{
	// NodePools are validated but not stored in the simulated apiserver (see Scenario.NodePools).
	"NodePool": "read and validated, not stored, and not acted on with --autoscaler none: a cluster autoscaler would add nodes of this pool when pods are unschedulable and remove underused ones; kwoksim keeps the nodes as given (--autoscaler cluster-autoscaler or karpenter scales them)",
}

// Served reports whether the simulated apiserver stores obj's kind: what a mixed input keeps
// (see manifest.LoadMixed). It asks the simulator, so a kind it learns to serve is kept
// without a change here.
func Served(obj runtime.Object) bool {
	_, err := sim.KindOf(obj)
	return err == nil
}

// CountSkipped counts skipped objects per apiVersion, kind and reason, sorted (see
// analysis.SortSkipped).
func CountSkipped(skipped []manifest.Skipped) []analysis.SkippedKind {
	index := map[analysis.SkippedKind]int{}
	var out []analysis.SkippedKind
	for _, s := range skipped {
		k := analysis.SkippedKind{APIVersion: s.APIVersion, Kind: s.Kind, Reason: s.Reason}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, k)
		}
		out[i].Count++
	}
	analysis.SortSkipped(out)
	return out
}

// CountNotActedOn counts the objects of the kinds no simulated controller acts on, sorted.
func CountNotActedOn(groups ...[]manifest.Object) []analysis.NotActedOnKind {
	index := map[[2]string]int{}
	var out []analysis.NotActedOnKind
	for _, objs := range groups {
		for _, o := range objs {
			gvk := o.Obj.GetObjectKind().GroupVersionKind()
			note, ok := notActedOn[gvk.Kind]
			if !ok {
				continue
			}
			k := [2]string{gvk.GroupVersion().String(), gvk.Kind}
			i, seen := index[k]
			if !seen {
				i = len(out)
				index[k] = i
				out = append(out, analysis.NotActedOnKind{APIVersion: k[0], Kind: k[1], Note: note})
			}
			out[i].Count++
		}
	}
	analysis.SortNotActedOn(out)
	return out
}

// CheckSkipped is the error of --strict-kinds when objects were skipped: bad input, listing
// them.
func CheckSkipped(skipped []analysis.SkippedKind) error {
	if len(skipped) == 0 {
		return nil
	}
	var b strings.Builder
	for _, s := range skipped {
		fmt.Fprintf(&b, "\n  %s %s ×%d: %s", s.APIVersion, s.Kind, s.Count, s.Reason)
	}
	return &SkippedError{Msg: "the inputs hold kinds kwoksim does not simulate (drop --strict-kinds to skip them):" + b.String()}
}

// SkippedError is a skipped kind under --strict-kinds: bad input (kwoksim exits 2).
type SkippedError struct{ Msg string }

func (e *SkippedError) Error() string { return e.Msg }

// BadInput marks the error as bad input.
func (*SkippedError) BadInput() {}
