package stages

import (
	"slices"
	"strconv"

	"sigs.k8s.io/kwok/pkg/apis/internalversion"
)

// objectFinalizers reads metadata.finalizers.
func objectFinalizers(obj map[string]any) []string {
	meta, _ := obj["metadata"].(map[string]any)
	list, _ := meta["finalizers"].([]any)
	out := make([]string, 0, len(list))
	for _, f := range list {
		if s, ok := f.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

type finalizerOp struct {
	Op    string `json:"op,omitempty"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// finalizerOps resolves a finalizer change as KWOK's finalizersModify does:
// empty (or removing every present finalizer) removes the list, then adds
// come back as a fresh list; otherwise listed finalizers are removed by
// index, highest first, and missing ones appended.
func finalizerOps(current []string, change *internalversion.StageFinalizers) []finalizerOp {
	var ops []finalizerOp
	empty := change.Empty
	if !empty && len(change.Remove) != 0 {
		removed := removeOps(current, values(change.Remove))
		if len(removed) == len(current) {
			empty = true
		} else {
			ops = append(ops, removed...)
		}
	}
	add := values(change.Add)
	if empty {
		if len(current) != 0 {
			ops = append(ops, finalizerOp{Op: "remove", Path: "/metadata/finalizers"})
		}
		if len(add) != 0 {
			ops = append(ops, addOps(nil, add)...)
		}
		return ops
	}
	if len(add) != 0 {
		ops = append(ops, addOps(current, add)...)
	}
	return ops
}

func values(items []internalversion.FinalizerItem) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.Value)
	}
	return out
}

func addOps(current, add []string) []finalizerOp {
	if len(current) == 0 {
		return []finalizerOp{{Op: "add", Path: "/metadata/finalizers", Value: add}}
	}
	var ops []finalizerOp
	for _, f := range add {
		if !slices.Contains(current, f) {
			ops = append(ops, finalizerOp{Op: "add", Path: "/metadata/finalizers/-", Value: f})
		}
	}
	return ops
}

// removeOps removes from the end so earlier indexes stay valid.
func removeOps(current, remove []string) []finalizerOp {
	var ops []finalizerOp
	for i := len(current) - 1; i >= 0; i-- {
		if slices.Contains(remove, current[i]) {
			ops = append(ops, finalizerOp{Op: "remove", Path: "/metadata/finalizers/" + strconv.Itoa(i)})
		}
	}
	return ops
}
