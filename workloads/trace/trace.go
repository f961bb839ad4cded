package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/drain"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// A trace is a timed list of operations on the cluster: `kwoksim run --trace FILE`. The
// format is YAML {apiVersion: kwoksim/v1alpha1, kind: Trace, events: [...]} or JSON Lines
// (one event per line, read as the run goes, so a long trace costs no memory).
const (
	TraceAPIVersion = "kwoksim/v1alpha1"
	TraceKind       = "Trace"
)

// Op is what a trace event does.
type Op string

const (
	OpApply  Op = "apply"
	OpDelete Op = "delete"
	OpScale  Op = "scale"
	OpPatch  Op = "patch"
	// The failure and maintenance operations (see failures.go).
	OpEvict    Op = "evict"
	OpCordon   Op = "cordon"
	OpUncordon Op = "uncordon"
	OpDrain    Op = "drain"
	OpFail     Op = "fail"
	OpRecover  Op = "recover"
	// OpLoad sets a workload's demand for the load model (workloads/load).
	OpLoad Op = "load"
)

var traceOps = []Op{OpApply, OpDelete, OpScale, OpPatch, OpEvict, OpCordon, OpUncordon, OpDrain, OpFail, OpRecover, OpLoad}

// Event is one decoded event.
type Event struct {
	At     time.Duration
	Source manifest.Source
	Op     Op
	// Objects are the manifests of an apply (one, or the items of a List).
	Objects []manifest.Object
	// Target names the object of a delete, scale, patch or load.
	Target ObjectRef
	// Replicas is the scale's new size.
	Replicas  int32
	PatchType types.PatchType
	Patch     []byte
	// GracePeriodSeconds is a delete's or an evict's, or nil for the pod's own.
	GracePeriodSeconds *int64
	// Node names the node of a cordon, uncordon, drain, fail or recover.
	Node string
	// FailMode is a fail's mode.
	FailMode FailMode
	// Drain is a drain's options.
	Drain *drain.Options
	// CPU and Memory are a load's demands, nil for a resource it leaves as it was (at least
	// one is set); never negative.
	CPU, Memory *resource.Quantity
}

// ObjectRef names one object.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// scalableKinds are the kinds a scale event accepts: those with a scale subresource.
var scalableKinds = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range sim.ScaleKinds {
		m[k] = true
	}
	return m
}()

// ApplyKinds are the kinds an apply event accepts: everything the simulated apiserver serves,
// taken from the simulator so that a kind it learns to serve is accepted here too.
var ApplyKinds = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range sim.SupportedKinds() {
		m[k] = true
	}
	return m
}()

var patchTypes = map[string]types.PatchType{
	"strategic": types.StrategicMergePatchType,
	"merge":     types.MergePatchType,
	"json":      types.JSONPatchType,
}

// decodeEvent parses one event, given as a JSON object, from src.
func decodeEvent(src manifest.Source, j []byte) (*Event, error) {
	fail := func(format string, args ...any) error {
		return &manifest.LoadError{File: src.File, Line: src.Line, Msg: fmt.Sprintf(format, args...)}
	}
	j = bytes.TrimSpace(j)
	if len(j) == 0 || j[0] != '{' {
		return nil, fail("expected an event, a mapping with at and one of %s; found %s", opList(), manifest.JSONType(j))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(j, &fields); err != nil {
		return nil, fail("malformed event: %v", err)
	}
	ev := &Event{Source: src}
	rawAt, ok := fields["at"]
	if !ok {
		return nil, fail(`missing "at": the event's time from the start, a Go duration such as "90s" or "36h"`)
	}
	var at string
	if err := json.Unmarshal(rawAt, &at); err != nil {
		return nil, fail(`at: expected a Go duration such as "90s" or "36h", found %s`, manifest.JSONType(rawAt))
	}
	d, err := time.ParseDuration(at)
	if err != nil || d < 0 {
		return nil, fail(`at: expected a non-negative Go duration such as "90s" or "36h", got %q`, at)
	}
	if err := sim.CheckUntil("at:", d); err != nil {
		return nil, fail("%v", err)
	}
	ev.At = d
	var ops []string
	for k := range fields {
		if k == "at" {
			continue
		}
		if !slices.Contains(traceOps, Op(k)) {
			return nil, fail("unknown operation %q; expected one of %s", k, opList())
		}
		ops = append(ops, k)
	}
	sort.Strings(ops)
	switch len(ops) {
	case 0:
		return nil, fail("the event has no operation; expected one of %s", opList())
	case 1:
	default:
		return nil, fail("the event has %d operations (%s); give each its own event", len(ops), strings.Join(ops, ", "))
	}
	ev.Op = Op(ops[0])
	body := fields[ops[0]]
	switch ev.Op {
	case OpApply:
		objs, err := manifest.Decode(src, body, ApplyKinds, "apply: ")
		if err != nil {
			return nil, err
		}
		if len(objs) == 0 {
			return nil, fail("apply: the List has no items")
		}
		ev.Objects = objs
	case OpDelete:
		var d struct {
			ObjectRef
			GracePeriodSeconds *int64 `json:"gracePeriodSeconds"`
		}
		if err := strictUnmarshal(body, &d); err != nil {
			return nil, fail("delete: %v", err)
		}
		if ev.Target, err = checkRef(d.ObjectRef, "delete", nil); err != nil {
			return nil, fail("%v", err)
		}
		if d.GracePeriodSeconds != nil && *d.GracePeriodSeconds < 0 {
			return nil, fail("delete: gracePeriodSeconds: expected a non-negative integer, got %d", *d.GracePeriodSeconds)
		}
		ev.GracePeriodSeconds = d.GracePeriodSeconds
	case OpScale:
		var s struct {
			ObjectRef
			Replicas *int32 `json:"replicas"`
		}
		if err := strictUnmarshal(body, &s); err != nil {
			return nil, fail("scale: %v", err)
		}
		if ev.Target, err = checkRef(s.ObjectRef, "scale", scalableKinds); err != nil {
			return nil, fail("%v", err)
		}
		if s.Replicas == nil || *s.Replicas < 0 {
			return nil, fail("scale: replicas: expected a non-negative integer")
		}
		ev.Replicas = *s.Replicas
	case OpPatch:
		var p struct {
			ObjectRef
			Type  string          `json:"type"`
			Patch json.RawMessage `json:"patch"`
		}
		if err := strictUnmarshal(body, &p); err != nil {
			return nil, fail("patch: %v", err)
		}
		if ev.Target, err = checkRef(p.ObjectRef, "patch", nil); err != nil {
			return nil, fail("%v", err)
		}
		if p.Type == "" {
			p.Type = "strategic"
		}
		pt, ok := patchTypes[p.Type]
		if !ok {
			return nil, fail("patch: type: expected strategic, merge or json, got %q", p.Type)
		}
		ev.PatchType = pt
		if ev.Patch, err = patchBody(p.Patch, pt); err != nil {
			return nil, fail("patch: patch: %v", err)
		}
		if err := checkNoStatus(ev.Target.Kind, pt, ev.Patch); err != nil {
			return nil, fail("%v", err)
		}
	case OpLoad:
		if err := decodeLoad(ev, body); err != nil {
			return nil, fail("%v", err)
		}
	default:
		if err := decodeFailureOp(ev, body); err != nil {
			return nil, fail("%s: %v", ev.Op, err)
		}
	}
	return ev, nil
}

func opList() string {
	s := make([]string, len(traceOps))
	for i, op := range traceOps {
		s[i] = string(op)
	}
	return strings.Join(s, ", ")
}

func decodeRef(body json.RawMessage, op string, kinds map[string]bool) (ObjectRef, error) {
	var r ObjectRef
	if err := strictUnmarshal(body, &r); err != nil {
		return r, fmt.Errorf("%s: %v", op, err)
	}
	return checkRef(r, op, kinds)
}

// checkRef checks that a reference names a kind the operation accepts; a namespaced kind
// without a namespace means "default", as kubectl takes it.
func checkRef(r ObjectRef, op string, kinds map[string]bool) (ObjectRef, error) {
	if kinds == nil {
		kinds = ApplyKinds
	}
	if r.Kind == "" {
		return r, fmt.Errorf("%s: missing kind; expected %s", op, manifest.ExpectedKinds(kinds))
	}
	if !kinds[r.Kind] {
		return r, fmt.Errorf("%s: kind %q is not accepted here; expected %s", op, r.Kind, manifest.ExpectedKinds(kinds))
	}
	if r.Name == "" {
		return r, fmt.Errorf("%s: missing name", op)
	}
	if k, err := sim.KindNamed(r.Kind); err == nil && !k.Namespaced {
		if r.Namespace != "" {
			return r, fmt.Errorf("%s: %s is cluster-scoped; remove namespace %q", op, r.Kind, r.Namespace)
		}
	} else if r.Namespace == "" {
		r.Namespace = "default"
	}
	return r, nil
}

// patchBody returns the patch as JSON. It is given inline (a mapping; a list for a JSON
// patch) or as a string holding JSON.
func patchBody(raw json.RawMessage, pt types.PatchType) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("missing")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		raw = bytes.TrimSpace([]byte(s))
		if !json.Valid(raw) {
			return nil, errors.New("the string is not JSON")
		}
	}
	want := byte('{')
	if pt == types.JSONPatchType {
		want = '['
	}
	if len(raw) == 0 || raw[0] != want {
		if want == '[' {
			return nil, fmt.Errorf("a json patch is a list of operations, found %s", manifest.JSONType(raw))
		}
		return nil, fmt.Errorf("a %s patch is a mapping, found %s", map[types.PatchType]string{types.StrategicMergePatchType: "strategic", types.MergePatchType: "merge"}[pt], manifest.JSONType(raw))
	}
	return raw, nil
}

// checkNoStatus refuses a patch that writes status. A patch of the main resource cannot
// change it on a real apiserver: status is a subresource, the apiserver drops status changes
// in a patch of the object, so the event would do nothing while its author expects an effect.
// Status belongs to whatever writes it in a cluster: a node's and a pod's kubelet (here, the
// KWOK stages) and the controllers.
func checkNoStatus(kind string, pt types.PatchType, patch []byte) error {
	field := ""
	if pt == types.JSONPatchType {
		var ops []struct {
			Op   string `json:"op"`
			Path string `json:"path"`
		}
		if err := json.Unmarshal(patch, &ops); err != nil {
			return nil // the apiserver's own message comes at the event
		}
		for i, o := range ops {
			if o.Op != "test" && (o.Path == "/status" || strings.HasPrefix(o.Path, "/status/")) {
				field = fmt.Sprintf("patch[%d].path (%s)", i, o.Path)
				break
			}
		}
	} else {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(patch, &m); err != nil {
			return nil
		}
		if _, ok := m["status"]; ok {
			field = "patch.status"
		}
	}
	if field == "" {
		return nil
	}
	instead := "its controller writes it"
	switch kind {
	case "Node":
		instead = "a node's kubelet writes it, here the node stages (node-initialize, the heartbeat): " +
			"to take a node down and back use the fail operation (mode stop, not-ready or delete) and recover, " +
			"to keep pods off it cordon, or a stage of your own (--stages)"
	case "Pod":
		instead = "a pod's kubelet writes it, here the pod stages (pod-ready, pod-complete, pod-delete): " +
			"to end a pod after a run time annotate it kwoksim.io/run-duration, to remove it use delete or evict, " +
			"or write a stage of your own (--stages) that matches what the patch could set instead, e.g. a label"
	}
	return fmt.Errorf("patch: %s: a patch cannot change a %s's status: status is a subresource, and a real apiserver "+
		"drops status changes in a patch of the object, so this event would do nothing; %s", field, kind, instead)
}

// strictUnmarshal decodes JSON, rejecting unknown fields.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	return nil
}
