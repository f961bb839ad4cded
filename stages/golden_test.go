package stages

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// kwokNow is the fixed time of KWOK's kustomize/stage/stage_test.go.
var kwokNow = time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)

// stubEnv renders the Env functions the way KWOK's golden test stubs them
// ("<NodeIP>", `<PodIPWith("node", false, …)>`, two-element lists for the *s
// variants), so a failing diff reads like KWOK's goldens.
type stubEnv struct{}

func (stubEnv) Now() time.Time       { return kwokNow }
func (stubEnv) StartTime() time.Time { return kwokNow }
func (stubEnv) NodeIP() string       { return "<NodeIP>" }
func (stubEnv) NodeName() string     { return "<NodeName>" }
func (stubEnv) NodePort() int        { return 10250 }
func (stubEnv) PodIP() string        { return "<PodIP>" }
func (stubEnv) NodeIPWith(node string) string {
	return stubCall("NodeIPWith", node)
}
func (stubEnv) NodeIPsWith(node string) []string {
	return stubCalls("NodeIPsWith", node)
}
func (stubEnv) PodIPWith(node string, hostNetwork bool, uid, name, ns string) (string, error) {
	return stubCall("PodIPWith", node, hostNetwork, uid, name, ns), nil
}
func (stubEnv) PodIPsWith(node string, hostNetwork bool, uid, name, ns string) ([]string, error) {
	return stubCalls("PodIPsWith", node, hostNetwork, uid, name, ns), nil
}

// KWOK has no provisioning functions; its goldens never call them.
func (stubEnv) StorageClass(string) map[string]any          { return nil }
func (stubEnv) VolumeNodeAffinity() (map[string]any, error) { return nil, nil }

func stubArgs(args []any) string {
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = fmt.Sprintf("%#v", a)
	}
	return strings.Join(s, ", ")
}

func stubCall(name string, args ...any) string {
	return fmt.Sprintf("<%s(%s)>", name, stubArgs(args))
}

func stubCalls(name string, args ...any) []string {
	return []string{
		fmt.Sprintf("<0 of %s(%s)>", name, stubArgs(args)),
		fmt.Sprintf("<1 of %s(%s)>", name, stubArgs(args)),
	}
}

// kwokTestdata is where the golden pairs live: $KWOK_TESTDATA, else the copy
// of KWOK's kustomize/stage tree in this repository.
func kwokTestdata() string {
	if d := os.Getenv("KWOK_TESTDATA"); d != "" {
		return d
	}
	return filepath.Join("..", "testdata", "kwok", "stages")
}

// TestKWOKGoldens replays KWOK's own stage golden tests: for each
// <profile>/testdata/<case>.input.yaml it loads the profile's stages, lists
// every stage KWOK could pick for the object with its weight, delay range and
// rendered steps, and compares that with <case>.output.yaml. A `<…>` in the
// golden stands for any value (KWOK stubs Now and the IP functions so).
func TestKWOKGoldens(t *testing.T) {
	root := kwokTestdata()
	var inputs []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".input.yaml") && filepath.Base(filepath.Dir(p)) == "testdata" {
			inputs = append(inputs, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatalf("no *.input.yaml under %s", root)
	}
	for _, in := range inputs {
		rel, _ := filepath.Rel(root, in)
		name := strings.Replace(strings.TrimSuffix(rel, ".input.yaml"), "/testdata/", "/", 1)
		t.Run(name, func(t *testing.T) {
			got, err := goldenResult(in)
			if err != nil {
				t.Fatal(err)
			}
			out := strings.TrimSuffix(in, ".input.yaml") + ".output.yaml"
			wantYAML, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var want any
			if err := yaml.Unmarshal(wantYAML, &want); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			if diffs := matchGolden("", want, got); len(diffs) != 0 {
				gotYAML, _ := yaml.Marshal(got)
				t.Errorf("%s:\n  %s\ngot:\n%s", out, strings.Join(diffs, "\n  "), gotYAML)
			}
		})
	}
}

// goldenResult computes what KWOK's stage_test.go Testing prints for input.
func goldenResult(input string) (any, error) {
	stages, err := profileStages(filepath.Dir(filepath.Dir(input)))
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(input)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(js, &obj); err != nil {
		return nil, err
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	result := map[string]any{"apiGroup": apiVersion, "kind": kind, "name": meta["name"]}
	if ns, _ := meta["namespace"].(string); ns != "" {
		result["namespace"] = ns
	}

	// KWOK keeps the stages whose resourceRef equals the object's
	// {apiVersion, kind} exactly.
	var ref []*Stage
	for _, s := range stages {
		if s.APIGroup == apiVersion && s.Kind == kind {
			ref = append(ref, s)
		}
	}
	matched, err := Match(ref, kind, obj)
	if err != nil {
		return nil, err
	}
	listed, err := possible(matched, obj)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, s := range listed {
		o, err := goldenStage(s, obj)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	result["stages"] = out
	// Normalise through JSON, as the golden is read.
	b, err := json.Marshal(result)
	if err != nil {
		return nil, err
	}
	var v any
	return v, json.Unmarshal(b, &v)
}

func goldenStage(s *Stage, obj map[string]any) (map[string]any, error) {
	o := map[string]any{"stage": s.Name}
	lo, hi, ok, err := s.DelayRange(obj, kwokNow)
	if err != nil {
		return nil, err
	}
	if ok {
		if lo == hi {
			o["delay"] = []int64{int64(lo)}
		} else {
			o["delay"] = []int64{int64(lo), int64(hi)}
		}
	}
	w, ok, err := s.Weight(obj)
	if err != nil {
		return nil, err
	}
	if ok {
		o["weight"] = w
	}
	// KWOK's golden test feeds unstructured objects: default patches are merge.
	steps, err := s.render(obj, stubEnv{}, false)
	if err != nil {
		return nil, err
	}
	next := []any{}
	for _, st := range steps {
		if e := st.Event; e != nil {
			next = append(next, map[string]any{"kind": "event", "type": e.Type, "reason": e.Reason, "message": e.Message})
		}
		if f := st.Finalizers; f != nil {
			next = append(next, map[string]any{"kind": "patch", "type": PatchType(PatchJSON), "data": json.RawMessage(f.Data)})
		}
		if st.Delete {
			next = append(next, map[string]any{"kind": "delete"})
		}
		if p := st.Patch; p != nil {
			next = append(next, effect("patch", PatchType(p.Type), p.Subresource, p.Impersonate, p.Data))
		}
		if a := st.Apply; a != nil {
			next = append(next, effect("apply", PatchType(a.Type), a.Subresource, a.Impersonate, a.Data))
		}
	}
	if s.ImmediateNextStage() {
		next = append(next, map[string]any{"kind": "immediate"})
	}
	o["next"] = next
	return o, nil
}

func effect(kind string, typ any, subresource, impersonate string, data []byte) map[string]any {
	m := map[string]any{"kind": kind, "type": typ, "data": json.RawMessage(data)}
	if subresource != "" {
		m["subresource"] = subresource
	}
	if impersonate != "" {
		m["impersonation"] = impersonate
	}
	return m
}

// profileStages loads the stages of a profile directory: its *.yaml files
// but kustomization.yaml, keeping only Stage documents, as KWOK's config
// loader skips other kinds (volume/fast holds a StorageClass).
func profileStages(dir string) ([]*Stage, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*Stage
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		docs, err := stageDocuments(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		stages, err := Parse(docs, f)
		if err != nil {
			return nil, err
		}
		out = append(out, stages...)
	}
	return out, nil
}

// stageDocuments keeps the documents of kind Stage.
func stageDocuments(data []byte) ([]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var keep [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return bytes.Join(keep, []byte("\n---\n")), nil
		}
		if err != nil {
			return nil, err
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, err
		}
		if tm.Kind == "Stage" {
			keep = append(keep, doc)
		}
	}
}

var placeholder = regexp.MustCompile(`<[^<>]+>`)

// matchGolden compares a golden value with a computed one, both as
// encoding/json decodes them. A golden string that is one placeholder
// matches any value; a string with placeholders inside matches a string
// whose other characters agree.
func matchGolden(path string, want, got any) []string {
	if s, ok := want.(string); ok && placeholder.MatchString(s) {
		if placeholder.FindString(s) == s {
			return nil
		}
		var re strings.Builder
		re.WriteString("^")
		last := 0
		for _, loc := range placeholder.FindAllStringIndex(s, -1) {
			re.WriteString(regexp.QuoteMeta(s[last:loc[0]]))
			re.WriteString("(?s:.*)")
			last = loc[1]
		}
		re.WriteString(regexp.QuoteMeta(s[last:]) + "$")
		g, ok := got.(string)
		if !ok || !regexp.MustCompile(re.String()).MatchString(g) {
			return []string{fmt.Sprintf("%s: want %q, got %#v", path, s, got)}
		}
		return nil
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %#v", path, got)}
		}
		var diffs []string
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inW:
				diffs = append(diffs, fmt.Sprintf("%s.%s: unexpected %#v", path, k, gv))
			case !inG:
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing, want %#v", path, k, wv))
			default:
				diffs = append(diffs, matchGolden(path+"."+k, wv, gv)...)
			}
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %d items, got %#v", path, len(w), got)}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, matchGolden(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return diffs
	}
	if !reflect.DeepEqual(want, got) {
		return []string{fmt.Sprintf("%s: want %#v, got %#v", path, want, got)}
	}
	return nil
}

// TestMatchGolden checks the comparison itself can fail.
func TestMatchGolden(t *testing.T) {
	for _, tc := range []struct {
		name      string
		want, got any
		ok        bool
	}{
		{"equal", map[string]any{"a": 1.0}, map[string]any{"a": 1.0}, true},
		{"different value", map[string]any{"a": 1.0}, map[string]any{"a": 2.0}, false},
		{"missing key", map[string]any{"a": 1.0}, map[string]any{}, false},
		{"extra key", map[string]any{}, map[string]any{"a": 1.0}, false},
		{"list length", []any{"x"}, []any{"x", "y"}, false},
		{"whole placeholder matches a number", "<NodePort>", 10250.0, true},
		{"whole placeholder matches a string", "<Now>", "2006-01-02T15:04:05Z", true},
		{"inner placeholder", "kwok-<Version>", "kwok-v0.8.0", true},
		{"inner placeholder, wrong prefix", "kwok-<Version>", "kubelet-v0.8.0", false},
		{"inner placeholder, not a string", "kwok-<Version>", 1.0, false},
		{"plain string differs", "Running", "Pending", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diffs := matchGolden("", tc.want, tc.got); (len(diffs) == 0) != tc.ok {
				t.Errorf("matchGolden(%#v, %#v) = %v, want ok=%v", tc.want, tc.got, diffs, tc.ok)
			}
		})
	}
}
