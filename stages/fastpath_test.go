package stages

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The fast paths (jq path walks, the render cache, the JSON decoder) must
// give exactly what the reference paths give. These tests hold them to it on
// KWOK's golden inputs, on pods played through the general stages, and on
// objects chosen to hit the fallbacks.

// callLogEnv answers deterministically from a counter and logs each call,
// so a render that calls the Env more or less often than the reference shows.
// Its answers take the shapes of its envShape.
type callLogEnv struct {
	n   int
	log []string
	envShape
	stubEnv // the provisioning functions, which no cached template calls
}

// envShape varies the shape of the Env's answers, which a render-cache entry
// records: list lengths, empty strings, a zero NodePort, values that cannot
// be spliced.
type envShape struct {
	elems []string // a list answer has one element per entry: "" an empty one
	empty bool     // NodeIP and NodeName answer "", NodePort 0
	odd   string   // appended to every string answer
}

// envShapes are the shapes checkFastPaths renders under, in turn.
var envShapes = []envShape{
	{elems: []string{"a"}},
	{elems: []string{"a", "b"}},
	{elems: nil},
	{elems: []string{"a"}, empty: true},
	{elems: []string{"", "b"}},
	{elems: []string{"a"}, odd: `"<&>\`},
	{elems: []string{"a"}, odd: "é"},
	{elems: []string{"a"}, odd: "\n"},
}

func (e *callLogEnv) call(name string, args ...any) string {
	e.n++
	s := fmt.Sprintf("%s%v#%d", name, args, e.n)
	e.log = append(e.log, s)
	return s + e.odd
}

func (e *callLogEnv) list(name string, args ...any) []string {
	s := e.call(name, args...)
	var out []string
	for _, el := range e.elems {
		if el != "" {
			el = s + "/" + el
		}
		out = append(out, el)
	}
	return out
}

func (e *callLogEnv) Now() time.Time {
	e.call("Now")
	return kwokNow.Add(time.Duration(e.n) * 1500 * time.Millisecond)
}
func (e *callLogEnv) StartTime() time.Time { e.call("StartTime"); return kwokNow }
func (e *callLogEnv) NodeIP() string {
	s := e.call("NodeIP")
	if e.empty {
		return ""
	}
	return s
}
func (e *callLogEnv) NodeName() string {
	s := e.call("NodeName")
	if e.empty {
		return ""
	}
	return s
}
func (e *callLogEnv) NodePort() int {
	e.call("NodePort")
	if e.empty {
		return 0
	}
	return 10250
}
func (e *callLogEnv) PodIP() string { return e.call("PodIP") }
func (e *callLogEnv) NodeIPWith(n string) string {
	return e.call("NodeIPWith", n)
}
func (e *callLogEnv) NodeIPsWith(n string) []string {
	return e.list("NodeIPsWith", n)
}
func (e *callLogEnv) PodIPWith(node string, hostNetwork bool, uid, name, ns string) (string, error) {
	if node == "fail" {
		e.call("PodIPWith-fail")
		return "", fmt.Errorf("no address for %s", name)
	}
	return e.call("PodIPWith", node, hostNetwork, uid, name, ns), nil
}
func (e *callLogEnv) PodIPsWith(node string, hostNetwork bool, uid, name, ns string) ([]string, error) {
	if node == "fail" {
		e.call("PodIPsWith-fail")
		return nil, fmt.Errorf("no addresses for %s", name)
	}
	return e.list("PodIPsWith", node, hostNetwork, uid, name, ns), nil
}

// fastPathChecks counts checkFastPaths calls.
var fastPathChecks int

// checkFastPaths compares every fast path with its reference for s and obj,
// rendering under every shape of Env answers.
func checkFastPaths(t *testing.T, s *Stage, obj map[string]any, label string) {
	t.Helper()
	checkFastPathsN(t, s, obj, label, len(envShapes)+1)
}

// checkFastPathsN is checkFastPaths with rounds renders: under successive
// shapes, the last round under the first shape again.
func checkFastPathsN(t *testing.T, s *Stage, obj map[string]any, label string, rounds int) {
	t.Helper()
	if sel := s.selector; sel != nil {
		for _, r := range sel.jq {
			checkJQ(t, r.query, obj, label+" "+s.Name+" "+r.field)
		}
	}
	for _, f := range []*exprFrom{s.weightFrom, delayFrom(s, false), delayFrom(s, true)} {
		if f != nil && f.jq != nil {
			checkJQ(t, f.jq, obj, label+" "+s.Name+" "+f.field)
		}
	}
	// The first render of a read set fills the cache, and the others hit
	// it, with the shapes it was filled with or not; successive calls start
	// at successive shapes, so that entries are filled under each.
	first := fastPathChecks
	fastPathChecks++
	for round := range rounds {
		shape := envShapes[(first+round)%len(envShapes)]
		if round == rounds-1 {
			shape = envShapes[first%len(envShapes)]
		}
		refEnv, fastEnv := &callLogEnv{n: round * 7, envShape: shape}, &callLogEnv{n: round * 7, envShape: shape}
		want, wantErr := s.renderSteps(obj, refEnv, s.typedCore, false)
		got, gotErr := s.renderSteps(obj, fastEnv, s.typedCore, true)
		where := fmt.Sprintf("%s %s round %d", label, s.Name, round)
		if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) {
			t.Errorf("%s: error %v, want %v", where, gotErr, wantErr)
			continue
		}
		// The fast path's patch trees must decode to Data and merge as the
		// reference does; the steps must otherwise be the reference's.
		checkPatchTrees(t, got, obj, s.Kind, where)
		if !reflect.DeepEqual(withoutTrees(got), want) {
			t.Errorf("%s: steps differ\n got %s\nwant %s", where, stepsText(got), stepsText(want))
		}
		if !reflect.DeepEqual(fastEnv.log, refEnv.log) {
			t.Errorf("%s: Env calls %v, want %v", where, fastEnv.log, refEnv.log)
		}
	}
}

func delayFrom(s *Stage, jitter bool) *exprFrom {
	if s.delay == nil {
		return nil
	}
	if jitter {
		if s.delay.jitter == nil {
			return nil
		}
		return s.delay.jitter.from
	}
	return s.delay.duration.from
}

func checkJQ(t *testing.T, q *jqQuery, obj map[string]any, where string) {
	t.Helper()
	got, gotErr := q.run(obj)
	want, wantErr := q.runGojq(obj)
	if !reflect.DeepEqual(got, want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Errorf("%s: jq %s = %#v, %v; gojq %#v, %v", where, q.src, got, gotErr, want, wantErr)
	}
}

func stepsText(steps []Step) string {
	var b strings.Builder
	for _, st := range steps {
		if st.Patch != nil {
			fmt.Fprintf(&b, "patch %s %s %s; ", st.Patch.Type, st.Patch.Subresource, st.Patch.Data)
		}
		if st.Apply != nil {
			fmt.Fprintf(&b, "apply %s; ", st.Apply.Data)
		}
		if st.Finalizers != nil {
			fmt.Fprintf(&b, "finalizers %s; ", st.Finalizers.Data)
		}
	}
	return b.String()
}

// allKWOKStages loads every profile under testdata/kwok/stages.
func allKWOKStages(t *testing.T) []*Stage {
	t.Helper()
	var out []*Stage
	err := filepath.WalkDir(kwokTestdata(), func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() || d.Name() == "testdata" {
			return err
		}
		stages, err := profileStages(p)
		if err != nil {
			return err
		}
		out = append(out, stages...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return append(out, Default()...)
}

func TestFastPathsKWOKGoldens(t *testing.T) {
	stages := allKWOKStages(t)
	inputs, _ := filepath.Glob(filepath.Join(kwokTestdata(), "*", "*", "testdata", "*.input.yaml"))
	if len(inputs) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		js, err := yaml.YAMLToJSON(data)
		if err != nil {
			t.Fatal(err)
		}
		obj := mustObject(t, string(js))
		kind, _ := obj["kind"].(string)
		for _, s := range stages {
			if s.Kind == kind {
				checkFastPaths(t, s, obj, filepath.Base(in))
			}
		}
	}
}

func TestFastPathsPodLifecycle(t *testing.T) {
	stages := allKWOKStages(t)
	general := generalPodStages(t)
	r := &transitionRunner{stages: general, rng: rand.New(rand.NewPCG(3, 4)), env: &benchEnv{now: kwokNow}}
	for i := range 60 {
		obj := benchPodObject(t, i*7)
		for n := 0; n < 10; n++ {
			for _, s := range stages {
				if s.Kind == "Pod" {
					// Many calls: each renders under a few shapes, and
					// successive calls rotate through them all.
					checkFastPathsN(t, s, obj, fmt.Sprintf("pod %d state %d", i, n), 3)
				}
			}
			next, deleted, played, err := r.step(obj)
			if err != nil {
				t.Fatal(err)
			}
			if deleted || !played {
				break
			}
			obj = next
		}
	}
}

// nodeObjects are nodes as users write them and as kwoksim's benchmark makes
// them, from bare to fully reported.
var nodeObjects = []string{
	`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n0"}}`,
	`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","creationTimestamp":"2006-01-02T15:04:05Z",` +
		`"labels":{"kubernetes.io/hostname":"n1"}},"status":{"allocatable":{"cpu":"32","memory":"256Gi","pods":"110"},` +
		`"capacity":{"cpu":"32","memory":"256Gi","pods":"110"}}}`,
	`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n2","creationTimestamp":"2006-01-02T15:04:05Z"},` +
		`"spec":{"podCIDR":"10.1.0.0/24","taints":[{"key":"kwok.x-k8s.io/node","value":"fake","effect":"NoSchedule"}]},` +
		`"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.9"},{"type":"Hostname","address":"n2"}],` +
		`"nodeInfo":{"architecture":"arm64","kubeletVersion":"v1.30.0","machineID":"m"},` +
		`"conditions":[{"type":"Ready","status":"False","reason":"x"}],"phase":"Pending"}}`,
	`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n3","creationTimestamp":"2006-01-02T15:04:05Z"},` +
		`"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.10"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":1}}}}`,
}

// TestFastPathsNodeLifecycle plays nodes through the default node stages
// (initialize, then heartbeats), checking every Node stage of the default
// set and of KWOK's stage files at each state.
func TestFastPathsNodeLifecycle(t *testing.T) {
	stages := allKWOKStages(t)
	r := &transitionRunner{stages: Default(), rng: rand.New(rand.NewPCG(5, 6)), env: &benchEnv{now: kwokNow}, kind: "Node"}
	for i, js := range nodeObjects {
		obj := mustObject(t, js)
		for n := range 4 {
			for _, s := range stages {
				if s.Kind == "Node" {
					checkFastPaths(t, s, obj, fmt.Sprintf("node %d state %d", i, n))
				}
			}
			next, _, played, err := r.step(obj)
			if err != nil {
				t.Fatal(err)
			}
			if !played {
				t.Fatalf("node %d state %d: no stage played", i, n)
			}
			obj = next
		}
	}
}

// TestFastPathsOddNodes covers node shapes that must fall back or fail as
// the reference does.
func TestFastPathsOddNodes(t *testing.T) {
	stages := allKWOKStages(t)
	objects := []string{
		`{"kind":"Node"}`,
		`{"kind":"Node","metadata":null,"spec":null,"status":null}`,
		`{"kind":"Node","metadata":{"name":"n","creationTimestamp":7},"status":{"addresses":{"a":{"type":"InternalIP"}}}}`,
		`{"kind":"Node","metadata":{"name":"n","creationTimestamp":""},"status":{"addresses":[7,null,{"type":3}]}}`,
		`{"kind":"Node","metadata":{"name":"n"},"status":{"nodeInfo":"x","allocatable":null,"capacity":{}}}`,
		`{"kind":"Node","metadata":{"name":"n"},"status":{"nodeInfo":{"architecture":"` + sentinel('A', 0) + `"},` +
			`"addresses":[{"type":"Hostname","address":"` + sentinel('B', 0) + `"}]}}`,
		`{"kind":"Node","metadata":{"name":"n","creationTimestamp":{"a":1}},"status":{"phase":"Running",` +
			`"conditions":[{"type":"Ready","status":"True"}],"addresses":[{"type":"InternalIP","address":"é"}]}}`,
	}
	for i, js := range objects {
		obj := mustObject(t, js)
		for _, s := range stages {
			if s.Kind == "Node" {
				checkFastPaths(t, s, obj, fmt.Sprintf("node object %d", i))
			}
		}
	}
}

// TestDefaultStagesTakeTheFastPath checks that the default set's templates
// are cacheable and that a second object with the same read set is served
// from the cache: the patch then carries its decoded tree.
func TestDefaultStagesTakeTheFastPath(t *testing.T) {
	pod := func(name string) map[string]any {
		return mustObject(t, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"`+name+`","namespace":"ns","uid":"u-`+name+`"},`+
			`"spec":{"nodeName":"node-`+name+`","containers":[{"name":"c","image":"i"}]},"status":{"phase":"Pending"}}`)
	}
	node := func(name string) map[string]any {
		return mustObject(t, `{"apiVersion":"v1","kind":"Node","metadata":{"name":"`+name+`","creationTimestamp":"2006-01-02T15:04:05Z"},`+
			`"status":{"allocatable":{"cpu":"32"},"capacity":{"cpu":"32"}}}`)
	}
	readyNode := func(name string) map[string]any {
		return mustObject(t, `{"apiVersion":"v1","kind":"Node","metadata":{"name":"`+name+`","creationTimestamp":"2006-01-02T15:04:05Z"},`+
			`"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}],"addresses":[{"type":"InternalIP","address":"10.0.0.1"}]}}`)
	}
	for _, tc := range []struct {
		stage string
		obj   func(string) map[string]any
	}{
		{"pod-ready", pod}, {"node-initialize", node}, {"node-heartbeat-with-lease", readyNode},
	} {
		t.Run(tc.stage, func(t *testing.T) {
			var s *Stage
			for _, d := range Default() {
				if d.Name == tc.stage {
					s = d
				}
			}
			if s == nil {
				t.Fatalf("no default stage %s", tc.stage)
			}
			for i, sp := range s.steps {
				if sp.patch != nil && sp.patch.tmpl.cache == nil {
					t.Fatalf("step %d: template not cacheable", i)
				}
			}
			for i, name := range []string{"a", "b", "c"} {
				steps, err := s.Steps(tc.obj(name), &benchEnv{now: kwokNow})
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range steps {
					// "a" may fill the cache (or find it filled by an earlier test).
					if st.Patch != nil && st.Patch.tree == nil && i > 0 {
						t.Errorf("object %s: rendered in full", name)
					}
				}
			}
		})
	}
}

// TestFastPathsOddObjects covers the shapes that must fall back or fail as
// the reference does.
func TestFastPathsOddObjects(t *testing.T) {
	stages := allKWOKStages(t)
	base := `"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns","uid":"u"`
	objects := []string{
		`{"kind":"Pod"}`,
		`{"kind":"Pod","metadata":null,"spec":null,"status":null}`,
		`{` + base + `},"spec":{"containers":[{"name":"c","image":"i"}]}}`,
		`{` + base + `},"spec":{"nodeName":"n","hostNetwork":true,"containers":[{"name":"c","image":"i"}]}}`,
		`{` + base + `},"spec":{"nodeName":"n","hostNetwork":1,"containers":[{"name":"c","image":"i"}]}}`,
		`{` + base + `},"spec":{"nodeName":"n","hostNetwork":"yes","containers":[{"name":"c","image":"i"}]}}`,
		`{` + base + `},"spec":{"nodeName":7,"containers":[{"name":"c","image":"i"}]}}`,
		`{` + base + `},"spec":{"nodeName":null,"containers":[{"name":"c","image":"i"}]}}`,
		`{` + base + `},"spec":{"nodeName":"fail","containers":[{"name":"c","image":"i"}]}}`,
		`{` + base + `,"uid":null},"spec":{"nodeName":"n","containers":[{"name":"c","image":"i"}]}}`,
		`{` + base + `},"spec":{"nodeName":"n","containers":{"a":{"name":"c","image":"i"}}}}`,
		// The same read set but for the statuses' length: the second fails
		// `index $root.status.containerStatuses $index`.
		`{` + base + `},"spec":{"nodeName":"n","containers":[{"name":"c","image":"i"},{"name":"d","image":"j"}]},` +
			`"status":{"phase":"Pending","conditions":[{"type":"Initialized","status":"True"}],"containerStatuses":[{"name":"c"},{}]}}`,
		`{` + base + `},"spec":{"nodeName":"n","containers":[{"name":"c","image":"i"},{"name":"d","image":"j"}]},` +
			`"status":{"phase":"Pending","conditions":[{"type":"Initialized","status":"True"}],"containerStatuses":[{"name":"c"}]}}`,
		`{` + base + `},"spec":{"nodeName":"n","containers":[{"name":"c","image":"i\"<&>\\x"}],"initContainers":[{"name":"i","image":3}]},` +
			`"status":{"phase":"Pending","initContainerStatuses":[{"state":{"waiting":{"reason":"x"}}}]}}`,
		`{` + base + `,"annotations":{"pod-create.stage.kwok.x-k8s.io/delay":"2s","pod-ready.stage.kwok.x-k8s.io/weight":"0x10",` +
			`"pod-create.stage.kwok.x-k8s.io/weight":"x","pod-create.stage.kwok.x-k8s.io/jitter-delay":"2030-01-01T00:00:00Z"}},` +
			`"spec":{"nodeName":"n","containers":[{"name":"kwoksim-hole-A0-","image":"kwoksim-hole-B0-"}]}}`,
		`{` + base + `,"ownerReferences":{"a":{"kind":"Job"},"b":{"kind":"ReplicaSet"}}},"spec":{"nodeName":"n","containers":[]},` +
			`"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"},{"type":"Ready","status":true},7]}}`,
		`{` + base + `,"deletionTimestamp":"2006-01-02T15:04:05Z","finalizers":["a","b"]},"spec":{"nodeName":"n","containers":[{"name":"c","image":"i"}]},` +
			`"status":{"phase":"Running","containerStatuses":[{"state":{"running":{"startedAt":null}}},{"state":"x"}]}}`,
	}
	for i, js := range objects {
		obj := mustObject(t, js)
		for _, s := range stages {
			if s.Kind == "Pod" {
				checkFastPaths(t, s, obj, fmt.Sprintf("object %d", i))
			}
		}
	}
}

// TestQuoteRoundTrip checks the premise of splicing: a printable ASCII string
// printed through Quote as a YAML value comes out of YAMLToJSON as its
// encoding/json encoding, which appendJSONString writes.
func TestQuoteRoundTrip(t *testing.T) {
	for c := byte(0x20); c <= 0x7e; c++ {
		s := "a" + string(c) + "b" + string(c)
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) || jsonStringLen(s) != len(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
		js, err := yaml.YAMLToJSON([]byte("k: " + quote(s) + "\nl:\n- " + quote(s) + "\n"))
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if exp := `{"k":` + string(want) + `,"l":[` + string(want) + `]}`; string(js) != exp {
			t.Errorf("%q: YAMLToJSON gives %s, want %s", s, js, exp)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, ` {"a" : -0.5e+3 } `,
		`{"a":1,"a":2}`, `"x"`, `1e400`, `{"a":"\u00e9"}`, `{"a":"é"}`, `{"a":01}`, `{"a":1.}`,
		`{"a":1}x`, `{"a":[1,]}`, `{"a":"` + "\t" + `"}`, `null`, `{"a":-}`, `[1,2`, ``,
	} {
		var want any
		wantErr := json.Unmarshal([]byte(in), &want)
		got, gotErr := decodeJSON([]byte(in))
		if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("decodeJSON(%q) = %#v, %v; want %#v, %v", in, got, gotErr, want, wantErr)
		}
	}
}

// TestObjectMatchesEncodingJSON holds Object's decoding to encoding/json's on
// typed objects, plain and with what the fast decoder hands over (escapes,
// non-ASCII, numbers).
func TestObjectMatchesEncodingJSON(t *testing.T) {
	pod := &corev1.Pod{}
	odd := benchPodObject(t, 3)
	odd["metadata"].(map[string]any)["labels"] = map[string]any{"a": "<&>", "b": "é", "c": "tab\there"}
	odd["spec"].(map[string]any)["priority"] = 7
	odd["spec"].(map[string]any)["activeDeadlineSeconds"] = 1e3
	for i, v := range []any{
		benchPodObject(t, 1), odd, pod, rawJSON(benchNode), rawJSON(`null`), []int{1}, "x",
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", Annotations: map[string]string{"x": "\u2028"}}},
	} {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		wantErr := json.Unmarshal(data, &want)
		got, gotErr := Object(v)
		if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("object %d: Object = %#v, %v; encoding/json %#v, %v", i, got, gotErr, want, wantErr)
		}
	}
}

// TestRenderCacheVariants checks that objects with one read set whose Env
// answers come in several shapes are each served from a variant of their
// entry once that shape has been seen, up to maxVariants shapes, and that
// the output is the reference's throughout.
func TestRenderCacheVariants(t *testing.T) {
	data, err := defaultFS.ReadFile("default/pod-ready.yaml")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := Parse(data, "pod-ready.yaml") // a fresh cache
	if err != nil {
		t.Fatal(err)
	}
	s := parsed[0]
	obj := mustObject(t, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns","uid":"u"},`+
		`"spec":{"nodeName":"n","containers":[{"name":"c","image":"i"}]},"status":{"phase":"Pending"}}`)
	shapes := []envShape{
		{elems: []string{"a"}}, {elems: []string{"a", "b"}}, {elems: nil}, {elems: []string{"", "b"}},
		{elems: []string{"a", "b", "c"}}, // a fifth shape: no variant left for it
	}
	seen := map[int]bool{}
	for round := range 4 * len(shapes) {
		i := round % len(shapes)
		if round >= 2*len(shapes) {
			i = (round * 3) % len(shapes) // another order
		}
		ref, fast := &callLogEnv{envShape: shapes[i]}, &callLogEnv{envShape: shapes[i]}
		want, err := s.renderSteps(obj, ref, true, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.renderSteps(obj, fast, true, true)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(withoutTrees(got), want) || !reflect.DeepEqual(fast.log, ref.log) {
			t.Fatalf("round %d shape %d: got %s, want %s", round, i, stepsText(got), stepsText(want))
		}
		cached := got[0].Patch.tree != nil
		if wantCached := seen[i] && i < maxVariants; cached != wantCached {
			t.Errorf("round %d shape %d: served from the cache %v, want %v", round, i, cached, wantCached)
		}
		seen[i] = true
	}
}
