package stages

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kwok/pkg/apis/internalversion"
)

// kinds summarises steps as "event", "finalizers", "delete", "patch", "apply"
// per step, joined by "+" within a step.
func kinds(steps []Step) []string {
	out := make([]string, len(steps))
	for i, st := range steps {
		var k []string
		if st.Event != nil {
			k = append(k, "event")
		}
		if st.Finalizers != nil {
			k = append(k, "finalizers")
		}
		if st.Delete {
			k = append(k, "delete")
		}
		if st.Patch != nil {
			k = append(k, "patch")
		}
		if st.Apply != nil {
			k = append(k, "apply")
		}
		out[i] = strings.Join(k, "+")
	}
	return out
}

func TestNextConvertsToSteps(t *testing.T) {
	obj := mustObject(t, `{"metadata": {"name": "p", "finalizers": ["f0"]}, "status": {"phase": "Pending"}}`)
	for _, tc := range []struct {
		name string
		next string
		want []string
	}{
		{"event, finalizers, statusTemplate, delete", `
next:
  delete: true
  statusTemplate: 'phase: Running'
  finalizers:
    add: [{value: f1}]
  event: {type: Normal, reason: R, message: M}
`, []string{"event", "finalizers", "patch", "delete"}},
		{"patches win over statusTemplate", `
next:
  statusTemplate: 'phase: Running'
  patches:
  - {root: metadata, template: 'labels: {a: b}'}
  - {subresource: status, root: status, template: 'phase: Failed'}
`, []string{"patch", "patch"}},
		{"steps win over next", `
steps:
- delete: true
next:
  event: {type: Normal, reason: R, message: M}
`, []string{"delete"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustStage(t, "s", "Pod", "selector: {}\n"+tc.next)
			steps, err := s.Steps(obj, stubEnv{})
			if err != nil {
				t.Fatal(err)
			}
			if got := kinds(steps); !slices.Equal(got, tc.want) {
				t.Errorf("steps %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("statusTemplate is a status patch rooted at status", func(t *testing.T) {
		s := mustStage(t, "s", "Pod", "selector: {}\nnext:\n  statusTemplate: 'phase: Running'\n")
		steps, err := s.Steps(obj, stubEnv{})
		if err != nil {
			t.Fatal(err)
		}
		p := steps[0].Patch
		if p.Subresource != "status" || p.Type != PatchStrategic || !jsonEqual(t, p.Data, `{"status": {"phase": "Running"}}`) {
			t.Errorf("patch = %s %s %s", p.Type, p.Subresource, p.Data)
		}
	})
}

func TestStepOrderWithinStep(t *testing.T) {
	obj := mustObject(t, `{"metadata": {"name": "p"}}`)
	s := mustStage(t, "s", "Pod", `
selector: {}
steps:
- event: {type: Normal, reason: A, message: a}
  patch: {template: 'x: 1'}
  apply: {template: 'apiVersion: v1'}
- event: {type: Normal, reason: B, message: b}
  finalizers: {add: [{value: f}]}
  delete: true
  patch: {template: 'x: 2'}
- event: {type: Normal, reason: C, message: c}
  patch: {template: 'x: 3'}
`)
	steps, err := s.Steps(obj, stubEnv{})
	if err != nil {
		t.Fatal(err)
	}
	// After a delete, KWOK skips the rest of that step and all later ones
	// but their events.
	want := []string{"event+patch+apply", "event+finalizers+delete", "event"}
	if got := kinds(steps); !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	if steps[2].Event.Reason != "C" {
		t.Errorf("event after delete: %+v", steps[2].Event)
	}
	if a := steps[0].Apply; a.Type != PatchApply || !jsonEqual(t, a.Data, `{"apiVersion": "v1"}`) {
		t.Errorf("apply = %+v", a)
	}
}

func TestFinalizerOps(t *testing.T) {
	items := func(vs ...string) []internalversion.FinalizerItem {
		out := make([]internalversion.FinalizerItem, len(vs))
		for i, v := range vs {
			out[i].Value = v
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		current []string
		change  internalversion.StageFinalizers
		want    string // JSON patch, "" for none
	}{
		{"add to none", nil, internalversion.StageFinalizers{Add: items("a", "b")},
			`[{"op":"add","path":"/metadata/finalizers","value":["a","b"]}]`},
		{"add missing only", []string{"a"}, internalversion.StageFinalizers{Add: items("a", "b")},
			`[{"op":"add","path":"/metadata/finalizers/-","value":"b"}]`},
		{"add present", []string{"a"}, internalversion.StageFinalizers{Add: items("a")}, ""},
		{"remove one", []string{"a", "b", "c"}, internalversion.StageFinalizers{Remove: items("b")},
			`[{"op":"remove","path":"/metadata/finalizers/1"}]`},
		{"remove several, highest index first", []string{"a", "b", "c"}, internalversion.StageFinalizers{Remove: items("a", "c")},
			`[{"op":"remove","path":"/metadata/finalizers/2"},{"op":"remove","path":"/metadata/finalizers/0"}]`},
		{"remove all empties the list", []string{"a", "b"}, internalversion.StageFinalizers{Remove: items("b", "a")},
			`[{"op":"remove","path":"/metadata/finalizers"}]`},
		{"remove absent", []string{"a"}, internalversion.StageFinalizers{Remove: items("z")}, ""},
		{"remove from none", nil, internalversion.StageFinalizers{Remove: items("z")}, ""},
		{"empty", []string{"a", "b"}, internalversion.StageFinalizers{Empty: true},
			`[{"op":"remove","path":"/metadata/finalizers"}]`},
		{"empty with none", nil, internalversion.StageFinalizers{Empty: true}, ""},
		{"empty then add", []string{"a"}, internalversion.StageFinalizers{Empty: true, Add: items("x")},
			`[{"op":"remove","path":"/metadata/finalizers"},{"op":"add","path":"/metadata/finalizers","value":["x"]}]`},
		{"remove and add", []string{"a", "b"}, internalversion.StageFinalizers{Remove: items("a"), Add: items("c")},
			`[{"op":"remove","path":"/metadata/finalizers/0"},{"op":"add","path":"/metadata/finalizers/-","value":"c"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := "selector: {}\nsteps:\n- finalizers:\n"
			if tc.change.Empty {
				spec += "    empty: true\n"
			}
			for _, l := range []struct {
				key   string
				items []internalversion.FinalizerItem
			}{{"add", tc.change.Add}, {"remove", tc.change.Remove}} {
				if len(l.items) > 0 {
					spec += "    " + l.key + ":\n"
					for _, it := range l.items {
						spec += "    - value: " + it.Value + "\n"
					}
				}
			}
			s := mustStage(t, "s", "Pod", spec)
			fin := make([]string, len(tc.current))
			for i, f := range tc.current {
				fin[i] = `"` + f + `"`
			}
			obj := mustObject(t, `{"metadata": {"finalizers": [`+strings.Join(fin, ",")+`]}}`)
			steps, err := s.Steps(obj, stubEnv{})
			if err != nil {
				t.Fatal(err)
			}
			f := steps[0].Finalizers
			switch {
			case tc.want == "" && f != nil:
				t.Errorf("patch %s, want none", f.Data)
			case tc.want != "" && f == nil:
				t.Errorf("no patch, want %s", tc.want)
			case tc.want != "" && string(f.Data) != tc.want:
				t.Errorf("patch %s, want %s", f.Data, tc.want)
			}
		})
	}
}

func TestPatchTypes(t *testing.T) {
	obj := mustObject(t, `{"metadata": {"name": "x"}}`)
	for _, tc := range []struct {
		name, kind, patch string
		wantType, data    string
	}{
		{"Pod defaults to strategic", "Pod", "{root: status, template: 'phase: Running'}", PatchStrategic, `{"status": {"phase": "Running"}}`},
		{"Node defaults to strategic", "Node", "{template: 'a: 1'}", PatchStrategic, `{"a": 1}`},
		{"other kinds default to merge", "PersistentVolume", "{template: 'a: 1'}", PatchMerge, `{"a": 1}`},
		{"explicit merge", "Pod", "{type: merge, template: 'a: 1'}", PatchMerge, `{"a": 1}`},
		{"json patch with root", "Pod", `{type: json, root: status, template: '[{op: replace, path: /phase, value: Running}]'}`,
			PatchJSON, `[{"op": "replace", "path": "/status/phase", "value": "Running"}]`},
		{"json patch without root", "Pod", `{type: json, template: '[{op: remove, path: /a}]'}`,
			PatchJSON, `[{"op": "remove", "path": "/a"}]`},
		{"empty template", "Pod", "{root: status, template: ''}", PatchStrategic, `{"status": null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustStage(t, "s", tc.kind, "selector: {}\nsteps:\n- patch: "+tc.patch+"\n")
			steps, err := s.Steps(obj, stubEnv{})
			if err != nil {
				t.Fatal(err)
			}
			p := steps[0].Patch
			if p.Type != tc.wantType || !jsonEqual(t, p.Data, tc.data) {
				t.Errorf("patch %s %s, want %s %s", p.Type, p.Data, tc.wantType, tc.data)
			}
			if PatchType(p.Type) == "" {
				t.Errorf("PatchType(%q) is empty", p.Type)
			}
		})
	}
}

// recordingEnv records the arguments of the IP functions.
type recordingEnv struct {
	stubEnv
	calls []string
}

func (e *recordingEnv) NodeIPsWith(node string) []string {
	e.calls = append(e.calls, stubCall("NodeIPsWith", node))
	return []string{"192.168.0.1"}
}

func (e *recordingEnv) PodIPsWith(node string, hostNetwork bool, uid, name, ns string) ([]string, error) {
	e.calls = append(e.calls, stubCall("PodIPsWith", node, hostNetwork, uid, name, ns))
	return []string{"10.0.0.1", "fd00::1"}, nil
}

func TestTemplateReadsEnv(t *testing.T) {
	var ready *Stage
	for _, s := range Default() {
		if s.Name == "pod-ready" {
			ready = s
		}
	}
	obj := mustObject(t, `{"metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
		"spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]},
		"status": {"phase": "Pending"}}`)
	env := &recordingEnv{}
	steps, err := ready.Steps(obj, env)
	if err != nil {
		t.Fatal(err)
	}
	wantCalls := []string{`<NodeIPsWith("n1")>`, `<PodIPsWith("n1", false, "u1", "p", "ns")>`}
	if !slices.Equal(env.calls, wantCalls) {
		t.Errorf("calls %v, want %v", env.calls, wantCalls)
	}
	p := steps[0].Patch
	for _, want := range []string{`"podIP":"10.0.0.1"`, `"podIPs":[{"ip":"10.0.0.1"},{"ip":"fd00::1"}]`,
		`"hostIP":"192.168.0.1"`, `"startTime":"2006-01-02T15:04:05Z"`} {
		if !strings.Contains(string(p.Data), want) {
			t.Errorf("patch %s lacks %s", p.Data, want)
		}
	}
}

func TestTemplateFunctions(t *testing.T) {
	obj := mustObject(t, `{"metadata": {"name": "p"}, "spec": {"replicas": 3, "mem": 1000000}}`)
	for _, tc := range []struct {
		name, tmpl, want string
	}{
		{"Now is virtual and RFC 3339", `t: {{ Now | Quote }}`, `{"t": "2006-01-02T15:04:05Z"}`},
		{"sprig now is virtual", `year: {{ now.Year }}`, `{"year": 2006}`},
		{"StartTime", `t: {{ StartTime }}`, `{"t": "2006-01-02T15:04:05Z"}`},
		{"Version", `v: {{ Version }}`, `{"v": "v0.8.0"}`},
		// A float64 would print 1e+06; KWOK decodes with json.Number.
		{"numbers print as JSON writes them", `r: {{ .spec.replicas }}
m: "{{ .spec.mem }}"`, `{"r": 3, "m": "1000000"}`},
		{"Quote of a number", `r: {{ .spec.replicas | Quote }}`, `{"r": "3"}`},
		{"YAML indents", "m:\n{{ YAML .metadata 1 }}", `{"m": {"name": "p"}}`},
		{"NodeConditions", `count: {{ len NodeConditions }}
t: {{ (index NodeConditions 0).type }}`, `{"count": 5, "t": "Ready"}`},
		{"NodeConditions is a fresh copy", `{{ $c := index NodeConditions 0 }}{{ $_ := set $c "type" "X" }}t: {{ (index NodeConditions 0).type }}`, `{"t": "Ready"}`},
		{"sprig default", `x: {{ .missing | default "d" }}`, `{"x": "d"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustStage(t, "s", "Pod", "selector: {}\nsteps:\n- patch:\n    template: |\n      "+
				strings.ReplaceAll(tc.tmpl, "\n", "\n      ")+"\n")
			steps, err := s.Steps(obj, stubEnv{})
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, steps[0].Patch.Data, tc.want) {
				t.Errorf("rendered %s, want %s", steps[0].Patch.Data, tc.want)
			}
		})
	}
}

func TestRemovedSprigFunctions(t *testing.T) {
	for _, name := range removedSprig {
		if _, ok := baseFuncs[name]; ok {
			t.Errorf("%s is still a template function", name)
		}
	}
	for _, name := range []string{"Quote", "YAML", "NodeIP", "PodIPsWith", "now", "dateModify", "sha256sum"} {
		if _, ok := baseFuncs[name]; !ok {
			t.Errorf("%s is missing", name)
		}
	}
	_, err := Parse([]byte(stageDoc("s", "Pod", "steps:\n- patch:\n    template: 'home: {{ env \"HOME\" }}'\n")), "s.yaml")
	if err == nil || !strings.Contains(err.Error(), `function "env" not defined`) {
		t.Errorf("env compiled: %v", err)
	}
}

func TestRenderErrors(t *testing.T) {
	obj := mustObject(t, `{"metadata": {"name": "p"}}`)
	for _, tc := range []struct {
		name, tmpl string
		wantErr    error
		wantText   string
	}{
		{"output cap", `{{ range until 100000 }}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{{ end }}`, ErrRenderTooLarge, ""},
		{"repeat cap", `{{ repeat 100000000 "xx" }}`, ErrRenderTooLarge, ""},
		{"until cap", `{{ range until 100000000 }}{{ end }}`, nil, "longer than"},
		{"execution error", `{{ index .metadata.missing 3 }}`, nil, "execute"},
		{"not YAML", `a: [`, nil, "not YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustStage(t, "s", "Pod", "selector: {}\nsteps:\n- patch:\n    template: '"+tc.tmpl+"'\n")
			_, err := s.Steps(obj, stubEnv{})
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantText) || !strings.Contains(err.Error(), `stage "s": spec.steps[0].patch.template`) {
				t.Errorf("error %q: want the stage, the field and %q", err, tc.wantText)
			}
		})
	}
}

// failingEnv fails PodIPsWith, as an exhausted pool would.
type failingEnv struct{ stubEnv }

func (failingEnv) PodIPsWith(string, bool, string, string, string) ([]string, error) {
	return nil, fmt.Errorf("pool exhausted")
}

func TestEnvErrorFailsRender(t *testing.T) {
	s := mustStage(t, "s", "Pod", "selector: {}\nsteps:\n- patch:\n    template: '{{ PodIPsWith \"n\" false \"\" \"\" \"\" }}'\n")
	if _, err := s.Steps(map[string]any{}, failingEnv{}); err == nil || !strings.Contains(err.Error(), "pool exhausted") {
		t.Errorf("error %v", err)
	}
}

func TestStepsConcurrentRenders(t *testing.T) {
	// Default stages are shared between simulations: rendering with two Envs
	// at once must not mix their functions.
	s := mustStage(t, "s", "Pod", "selector: {}\nsteps:\n- patch:\n    template: 't: {{ Now }}'\n")
	done := make(chan string, 2)
	for _, sec := range []int{1, 2} {
		go func() {
			env := clockEnv{t: kwokNow.Add(time.Duration(sec) * time.Second)}
			for range 200 {
				steps, err := s.Steps(map[string]any{}, env)
				if err != nil {
					done <- err.Error()
					return
				}
				if want := fmt.Sprintf(`{"t":"2006-01-02T15:04:0%dZ"}`, 5+sec); string(steps[0].Patch.Data) != want {
					done <- string(steps[0].Patch.Data) + " != " + want
					return
				}
			}
			done <- ""
		}()
	}
	for range 2 {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}

type clockEnv struct {
	stubEnv
	t time.Time
}

func (e clockEnv) Now() time.Time { return e.t }
