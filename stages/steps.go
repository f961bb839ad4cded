package stages

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/kwok/pkg/apis/internalversion"
)

// Patch and apply types, as a stage writes them.
const (
	PatchJSON      = "json"      // RFC 6902 JSON patch
	PatchMerge     = "merge"     // RFC 7386 JSON merge patch
	PatchStrategic = "strategic" // Kubernetes strategic merge patch
	PatchApply     = "apply"     // server-side apply (Apply only)
)

// Step is one rendered stage step. KWOK performs a step's parts in this
// order: Event, Finalizers, Delete, Patch, Apply; once a step has deleted the
// object, later steps carry only their Event (KWOK still sends it).
type Step struct {
	Event      *Event
	Finalizers *Finalizers // nil when the change would not alter the finalizers
	Delete     bool        // delete the object (KWOK: grace period 0)
	Patch      *Patch
	Apply      *Apply
}

// Event is a Kubernetes event to record on the object.
type Event struct {
	Type, Reason, Message string
}

// Finalizers is a finalizer change resolved against the object's finalizers
// at render time, as KWOK resolves it: Data is a JSON patch (RFC 6902) on
// /metadata/finalizers, applied to the object itself (no subresource).
type Finalizers struct {
	Data []byte
}

// Patch is a rendered patch of the object.
type Patch struct {
	Type        string // PatchStrategic, PatchMerge or PatchJSON
	Subresource string // "status" for a statusTemplate, else as the stage says
	Data        []byte // JSON; wrapped in {root: …} (or paths prefixed with /root) when the stage sets root
	Impersonate string // user name to patch as, when the stage says so

	// tree is Data decoded, when the render cache had it: ApplyPatch
	// merges it without decoding Data. Data is the truth: a Patch whose
	// Data was replaced is decoded as usual.
	tree *patchTree
}

// Apply is a rendered object to create, or to patch when it exists (KWOK:
// Create, then Patch on AlreadyExists; with a subresource, Patch directly).
type Apply struct {
	Type        string // PatchApply, PatchMerge or PatchStrategic
	Subresource string
	Data        []byte // the whole object, JSON
	Impersonate string
}

// PatchType is the content type Kubernetes clients use for t.
func PatchType(t string) types.PatchType {
	switch t {
	case PatchJSON:
		return types.JSONPatchType
	case PatchMerge:
		return types.MergePatchType
	case PatchStrategic:
		return types.StrategicMergePatchType
	case PatchApply:
		return types.ApplyPatchType
	}
	return ""
}

// stepSpec is a compiled StageStep.
type stepSpec struct {
	event      *Event
	finalizers *internalversion.StageFinalizers
	delete     bool
	patch      *patchSpec
	apply      *applySpec
}

type patchSpec struct {
	typ         string // "" means KWOK's default for the resource
	subresource string
	root        string
	wrap        []byte // `{"<root>":`, which nests a merge patch under root
	tmpl        *tmpl
	impersonate string
}

type applySpec struct {
	typ         string
	subresource string
	tmpl        *tmpl
	impersonate string
}

func (s *Stage) compileSteps(in []internalversion.StageStep, fromNext bool) ([]stepSpec, error) {
	out := make([]stepSpec, 0, len(in))
	for i, st := range in {
		field := fmt.Sprintf("spec.steps[%d]", i)
		if fromNext {
			// The steps were converted from the deprecated `next`.
			field = fmt.Sprintf("spec.next (as spec.steps[%d])", i)
		}
		c := stepSpec{finalizers: st.Finalizers, delete: st.Delete}
		if e := st.Event; e != nil {
			c.event = &Event{Type: e.Type, Reason: e.Reason, Message: e.Message}
		}
		if p := st.Patch; p != nil {
			ps := &patchSpec{subresource: p.Subresource, root: p.Root, wrap: wrapPrefix(p.Root)}
			if p.Type != nil {
				switch t := string(*p.Type); t {
				case PatchJSON, PatchMerge, PatchStrategic:
					ps.typ = t
				case "":
				default:
					return nil, s.errorf(field+".patch.type", fmt.Errorf("%q is not json, merge or strategic", t))
				}
			}
			if p.Impersonation != nil {
				ps.impersonate = p.Impersonation.Username
			}
			var err error
			if ps.tmpl, err = s.compileTemplate(field+".patch.template", p.Template); err != nil {
				return nil, err
			}
			c.patch = ps
		}
		if a := st.Apply; a != nil {
			as := &applySpec{typ: PatchApply, subresource: a.Subresource}
			if a.Type != nil {
				switch t := string(*a.Type); t {
				case PatchApply, PatchMerge, PatchStrategic:
					as.typ = t
				case "":
				default:
					return nil, s.errorf(field+".apply.type", fmt.Errorf("%q is not apply, merge or strategic", t))
				}
			}
			if a.Impersonation != nil {
				as.impersonate = a.Impersonation.Username
			}
			var err error
			if as.tmpl, err = s.compileTemplate(field+".apply.template", a.Template); err != nil {
				return nil, err
			}
			c.apply = as
		}
		out = append(out, c)
	}
	return out, nil
}

// Steps renders the stage's steps for obj, reading time and IPs from env.
// Every template sees obj as it is now, as in KWOK, which renders all steps
// of one play against the object it matched. A patch without a type is a
// strategic merge patch for core Pods and Nodes and a JSON merge patch
// otherwise (KWOK's default for its typed and unstructured controllers).
// obj must be JSON data, as Object returns it.
func (s *Stage) Steps(obj map[string]any, env Env) ([]Step, error) {
	return s.render(obj, env, s.typedCore)
}

// render is Steps with the default patch type made explicit: KWOK's golden
// tests feed unstructured objects, for which the default is always merge.
func (s *Stage) render(obj map[string]any, env Env, typed bool) ([]Step, error) {
	return s.renderSteps(obj, env, typed, true)
}

// renderSteps renders with the template cache (fast) or always in full (the
// reference path, which the tests hold the cache to).
func (s *Stage) renderSteps(obj map[string]any, env Env, typed, fast bool) ([]Step, error) {
	in := &renderInput{obj: obj}
	if !fast {
		if _, err := in.json(); err != nil {
			return nil, s.errorf("", fmt.Errorf("object: %w", err))
		}
	}
	var finalizers []string // read on first use
	out := make([]Step, 0, len(s.steps))
	deleted := false
	for _, spec := range s.steps {
		var st Step
		if spec.event != nil {
			e := *spec.event // a copy: the compiled stage stays immutable
			st.Event = &e
		}
		if deleted {
			out = append(out, st)
			continue
		}
		if spec.finalizers != nil {
			if finalizers == nil {
				finalizers = objectFinalizers(obj)
			}
			if ops := finalizerOps(finalizers, spec.finalizers); len(ops) != 0 {
				b, err := json.Marshal(ops)
				if err != nil {
					return nil, s.errorf("", err)
				}
				st.Finalizers = &Finalizers{Data: b}
			}
		}
		if spec.delete {
			st.Delete = true
			deleted = true
			out = append(out, st)
			continue
		}
		if p := spec.patch; p != nil {
			var err error
			if st.Patch, err = s.renderPatch(p, in, env, typed, fast); err != nil {
				return nil, err
			}
		}
		if a := spec.apply; a != nil {
			r, err := a.tmpl.renderObject(in, env, fast, nil)
			if err != nil {
				return nil, s.renderError(in, a.tmpl, err)
			}
			st.Apply = &Apply{Type: a.typ, Subresource: a.subresource, Data: r.data, Impersonate: a.impersonate}
		}
		out = append(out, st)
	}
	return out, nil
}

// renderError locates a render failure; the object failing to encode is
// reported as the reference path reports it.
func (s *Stage) renderError(in *renderInput, t *tmpl, err error) error {
	if in.err != nil {
		return s.errorf("", fmt.Errorf("object: %w", in.err))
	}
	return s.errorf(t.field, err)
}

func (s *Stage) renderPatch(p *patchSpec, in *renderInput, env Env, typed, fast bool) (*Patch, error) {
	typ := p.typ
	if typ == "" {
		typ = PatchMerge
		if typed {
			typ = PatchStrategic
		}
	}
	if typ == PatchJSON {
		r, err := p.tmpl.renderObject(in, env, fast, nil)
		if err != nil {
			return nil, s.renderError(in, p.tmpl, err)
		}
		b, err := prefixJSONPatch(p.root, r.data)
		if err != nil {
			return nil, s.errorf(p.tmpl.field, err)
		}
		return &Patch{Type: typ, Subresource: p.subresource, Data: b, Impersonate: p.impersonate}, nil
	}
	r, err := p.tmpl.renderObject(in, env, fast, p.wrap)
	if err != nil {
		return nil, s.renderError(in, p.tmpl, err)
	}
	out := &Patch{Type: typ, Subresource: p.subresource, Data: r.data, Impersonate: p.impersonate}
	if r.tree != nil {
		out.tree = &patchTree{root: p.root, node: r.tree, vals: r.vals, data: r.data}
	}
	return out, nil
}

// wrapPrefix is what nests a merge patch under root: with the closing brace,
// json.Marshal(map[string]json.RawMessage{root: data}) without re-validating
// data, as rendered output is always compact JSON.
func wrapPrefix(root string) []byte {
	if root == "" {
		return nil
	}
	key, _ := json.Marshal(root) // a string always encodes
	return append(append([]byte{'{'}, key...), ':')
}

// jsonPatchOp has the fields, in the order, KWOK re-encodes a JSON patch with.
type jsonPatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
	From  string          `json:"from,omitempty"`
}

// prefixJSONPatch moves every operation's path under /root.
func prefixJSONPatch(root string, data []byte) ([]byte, error) {
	if root == "" {
		return data, nil
	}
	var ops []jsonPatchOp
	if err := json.Unmarshal(data, &ops); err != nil {
		return nil, fmt.Errorf("json patch: %w", err)
	}
	for i := range ops {
		ops[i].Path = "/" + root + ops[i].Path
	}
	return json.Marshal(ops)
}
