package stages

import (
	"encoding/json"
	"fmt"
	"sync"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// patchSchemas are the strategic-merge schemas of the kinds KWOK patches as
// typed objects. Building one walks the Go type with reflection, so it is
// done once.
var patchSchemas = sync.OnceValue(func() map[string]strategicpatch.LookupPatchMeta {
	out := map[string]strategicpatch.LookupPatchMeta{}
	for kind, v := range map[string]any{"Pod": &corev1.Pod{}, "Node": &corev1.Node{}} {
		meta, err := strategicpatch.NewPatchMetaFromStruct(v)
		if err != nil {
			panic(err) // static types; cannot fail
		}
		out[kind] = meta
	}
	return out
})

// ApplyPatch applies a rendered patch to obj, an object as Object returns it
// whose kind is kind, and returns the patched object. obj may be modified in
// place and share structure with the result; pass a copy to keep it.
//
// It is the JSON-level effect of the patch, as the API server computes it
// before decoding the result into its type: strategic merge uses the Go
// types' patch metadata (Pod and Node only; other kinds cannot take a
// strategic merge patch, as for custom resources). A patch for the "status"
// subresource changes only .status, which is what the API server keeps of a
// status update. There is no defaulting, validation or normalisation (e.g.
// times keep sub-second digits that metav1.Time would drop).
func ApplyPatch(kind string, obj map[string]any, p *Patch) (map[string]any, error) {
	if p.Subresource != "" && p.Subresource != "status" {
		return nil, fmt.Errorf("patch of subresource %q is not supported", p.Subresource)
	}
	if p.Type == PatchStrategic && p.Subresource == "status" {
		// A patch that sets only .status merges into obj as into the
		// status-only view, without building the view.
		if t := p.decodedTree(); t != nil && t.only("status") {
			if s, ok := smSchemas()[kind]; ok && t.strategicMerge(obj, s) {
				return obj, nil
			}
		}
	}
	target := obj
	if p.Subresource == "status" {
		// Patch a view holding only the status, then take the status back.
		target = map[string]any{}
		if st, ok := obj["status"]; ok {
			target["status"] = st
		}
	}
	var out map[string]any
	var err error
	switch p.Type {
	case PatchStrategic:
		schema, ok := patchSchemas()[kind]
		if !ok {
			return nil, fmt.Errorf("strategic merge patch of kind %q is not supported", kind)
		}
		if t := p.decodedTree(); t != nil && t.strategicMerge(target, smSchemas()[kind]) {
			out = target
			break
		}
		patch, err := p.decodeObject()
		if err != nil {
			return nil, fmt.Errorf("patch: %w", err)
		}
		out, err = strategicpatch.StrategicMergeMapPatchUsingLookupPatchMeta(target, patch, schema)
	case PatchMerge:
		var patch any
		if t := p.decodedTree(); t != nil {
			patch = t.decoded()
		} else if patch, err = decodeJSON(p.Data); err != nil {
			return nil, fmt.Errorf("patch: %w", err)
		}
		m, isMap := mergePatch(target, patch).(map[string]any)
		if !isMap {
			return nil, fmt.Errorf("merge patch does not yield an object")
		}
		out = m
	case PatchJSON:
		out, err = applyJSONPatch(target, p.Data)
	default:
		return nil, fmt.Errorf("patch type %q is not supported", p.Type)
	}
	if err != nil {
		return nil, err
	}
	if p.Subresource == "status" {
		if st, ok := out["status"]; ok {
			obj["status"] = st
		} else {
			delete(obj, "status")
		}
		return obj, nil
	}
	return out, nil
}

// decodedTree is the patch's tree when it still describes Data.
func (p *Patch) decodedTree() *patchTree {
	t := p.tree
	if t == nil || len(t.data) != len(p.Data) || len(p.Data) == 0 || &t.data[0] != &p.Data[0] {
		return nil
	}
	return t
}

// decodeObject is json.Unmarshal of Data into a map[string]any.
func (p *Patch) decodeObject() (map[string]any, error) {
	if t := p.decodedTree(); t != nil {
		if m, ok := t.decoded().(map[string]any); ok {
			return m, nil
		}
	}
	return decodeObject(p.Data)
}

// decodeObject is json.Unmarshal into a map[string]any.
func decodeObject(data []byte) (map[string]any, error) {
	if v, err := decodeJSON(data); err == nil {
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
	}
	var m map[string]any
	err := json.Unmarshal(data, &m)
	return m, err
}

// ApplyFinalizers applies a rendered finalizer change (a JSON patch on
// /metadata/finalizers) to obj, as ApplyPatch does.
func ApplyFinalizers(obj map[string]any, f *Finalizers) (map[string]any, error) {
	return applyJSONPatch(obj, f.Data)
}

// mergePatch is RFC 7386: objects merge recursively, null deletes, anything
// else replaces.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// applyJSONPatch goes through JSON: RFC 6902 patches are rare on the hot
// path (finalizer changes) and the library works on documents.
func applyJSONPatch(obj map[string]any, data []byte) (map[string]any, error) {
	p, err := jsonpatch.DecodePatch(data)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON patch: %w", err)
	}
	doc, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	if doc, err = p.Apply(doc); err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(doc, &out); err != nil {
		return nil, err
	}
	return out, nil
}
