package trace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// Trace parsing: events keep their file line, a List applies all its items, a patch can be
// given as a JSON string, a namespaced reference without a namespace means default.
func TestTraceParsing(t *testing.T) {
	dir := t.TempDir()
	yamlTrace := filepath.Join(dir, "t.yaml")
	os.WriteFile(yamlTrace, []byte(`apiVersion: kwoksim/v1alpha1
kind: Trace
events:
- at: 0s
  apply:
    apiVersion: v1
    kind: List
    items:
    - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
    - {apiVersion: v1, kind: Namespace, metadata: {name: b}}

- at: 1h30m
  patch: {kind: Deployment, name: web, type: json, patch: '[{"op":"replace","path":"/spec/paused","value":true}]'}
- at: 1h30m
  delete: {kind: Node, name: n1}
`), 0o644)
	r, err := openTrace(yamlTrace, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		ev, err := r.next()
		if err != nil {
			break
		}
		got = append(got, strings.Join([]string{ev.Source.String(), ev.At.String(), string(ev.Op), ev.Target.String(), string(ev.Patch)}, " "))
		if ev.Op == OpApply && len(ev.Objects) != 2 {
			t.Errorf("apply of a List: %d objects, want 2", len(ev.Objects))
		}
	}
	want := []string{
		yamlTrace + ":4 0s apply   ", // no target: ObjectRef{} prints as " "
		yamlTrace + `:12 1h30m0s patch Deployment default/web [{"op":"replace","path":"/spec/paused","value":true}]`,
		yamlTrace + ":14 1h30m0s delete Node n1 ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	for _, tc := range []struct{ line, want string }{
		{`{"at":"1s","scale":{"kind":"Job","name":"x","replicas":1}}`, `scale: kind "Job" is not accepted here; expected one of Deployment, ReplicaSet, ReplicationController, StatefulSet`},
		{`{"at":"1s","scale":{"kind":"Deployment","name":"x"}}`, "scale: replicas: expected a non-negative integer"},
		{`{"at":"1s","patch":{"kind":"Node","name":"n","type":"apply","patch":{}}}`, `patch: type: expected strategic, merge or json, got "apply"`},
		{`{"at":"1s","patch":{"kind":"Node","name":"n","type":"json","patch":{}}}`, "a json patch is a list of operations"},
		{`{"at":"1s","delete":{"kind":"Node","namespace":"x","name":"n"}}`, `Node is cluster-scoped; remove namespace "x"`},
		{`{"at":"1s","delete":{"kind":"Pod","name":"p"},"scale":{}}`, "the event has 2 operations (delete, scale)"},
		{`{"at":"1s","apply":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"s"}}}`, `apply: kind "ConfigMap" is not accepted here`},
		{`{"at":"1s","apply":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containerz":[]}}}`, `unknown field "spec.containerz"`},
		{`{"apply":{}}`, `missing "at"`},
		{`[1,2]`, "expected an event, a mapping with at and one of apply, delete, scale, patch, evict, cordon, uncordon, drain, fail, recover, load; found a list"},
	} {
		p := filepath.Join(dir, "bad.jsonl")
		os.WriteFile(p, []byte("\n"+tc.line+"\n"), 0o644)
		_, err := Check(p, 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), p+":2: ") {
			t.Errorf("%s:\n got %v\nwant %s:2: …%s…", tc.line, err, p, tc.want)
		}
	}
}

// An apply event takes every kind the simulator serves, and names them for a kind it does not
// serve, a custom resource included: a trace cannot skip an event silently.
func TestApplyKinds(t *testing.T) {
	for _, kind := range []string{"Node", "Namespace", "PriorityClass", "Pod", "Deployment", "Job"} {
		if !ApplyKinds[kind] {
			t.Errorf("apply does not take %s", kind)
		}
	}
	for _, body := range []string{
		`{"at": "1s", "apply": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}}`,
		`{"at": "1s", "apply": {"apiVersion": "example.com/v1", "kind": "ConfigMap", "metadata": {"name": "c"}}}`,
	} {
		_, err := decodeEvent(manifest.Source{File: "t.jsonl", Line: 3}, []byte(body))
		want := `t.jsonl:3: apply: kind "ConfigMap" is not accepted here; expected one of `
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "Deployment") {
			t.Errorf("%s: err = %v, want %q and the served kinds", body, err, want)
		}
	}
}
