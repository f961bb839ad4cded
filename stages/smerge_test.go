package stages

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// withoutTrees copies steps with the patch trees dropped, for comparison
// with the reference render, which has none.
func withoutTrees(steps []Step) []Step {
	if steps == nil {
		return nil
	}
	out := make([]Step, len(steps))
	for i, st := range steps {
		if st.Patch != nil && st.Patch.tree != nil {
			p := *st.Patch
			p.tree = nil
			st.Patch = &p
		}
		out[i] = st
	}
	return out
}

// checkPatchTrees holds every patch tree in steps to its Data: it decodes
// to what decodeJSON gives, and ApplyPatch with it gives what ApplyPatch
// without it gives (the reference strategic merge on the decoded Data).
func checkPatchTrees(t *testing.T, steps []Step, obj map[string]any, kind, where string) {
	t.Helper()
	for _, st := range steps {
		p := st.Patch
		if p == nil || p.tree == nil {
			continue
		}
		want, err := decodeJSON(p.Data)
		if err != nil || !reflect.DeepEqual(p.tree.decoded(), want) {
			t.Errorf("%s: tree decodes to %#v, Data to %#v (%v)", where, p.tree.decoded(), want, err)
		}
		if _, typed := patchSchemas()[kind]; !typed && p.Type == PatchStrategic {
			continue
		}
		checkApplyTree(t, kind, obj, p, where)
	}
}

// checkApplyTree applies p with and without its tree to copies of obj.
func checkApplyTree(t *testing.T, kind string, obj map[string]any, p *Patch, where string) {
	t.Helper()
	ref := *p
	ref.tree = nil
	want, wantErr := ApplyPatch(kind, deepCopyJSON(obj).(map[string]any), &ref)
	got, gotErr := ApplyPatch(kind, deepCopyJSON(obj).(map[string]any), p)
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) || string(gj) != string(wj) {
		t.Errorf("%s: ApplyPatch %s %s\n got %s, %v\nwant %s, %v", where, p.Type, p.Data, gj, gotErr, wj, wantErr)
	}
}

// treePatch makes a Patch carrying a tree for the JSON patch js, as the
// render cache would: string values equal to one of holes become holes.
func treePatch(t *testing.T, typ, root, js string, holes []string) *Patch {
	t.Helper()
	v, err := decodeJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	// Mark the hole values with sentinels, so newPatchTree opens them.
	v = markHoles(v, holes)
	n, ok := newPatchTree(v, len(holes))
	if !ok || n.kind != pMap {
		return nil
	}
	data, _ := json.Marshal(v)
	pt := &patchTree{root: root, node: n, vals: holes}
	data, _ = json.Marshal(pt.decoded())
	pt.data = data
	return &Patch{Type: typ, Data: data, tree: pt}
}

func markHoles(v any, holes []string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = markHoles(e, holes)
		}
	case []any:
		for i, e := range t {
			t[i] = markHoles(e, holes)
		}
	case string:
		for h, s := range holes {
			if s == t {
				return sentinel('A', h)
			}
		}
	}
	return v
}

// TestStrategicMergeTree holds the tree merge to strategicpatch on patches
// and pods built from parts KWOK stages use and parts they do not: merge
// lists (conditions by type, podIPs by ip), replace lists, nested maps,
// nulls, type changes, duplicate and missing merge keys, scalar merge lists
// and directives.
func TestStrategicMergeTree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	cond := func() string {
		parts := []string{fmt.Sprintf(`"type":%q`, pick("Ready", "Initialized", "ContainersReady", "PodScheduled", "X"))}
		if rng.IntN(8) == 0 {
			parts = parts[:0] // no merge key
		}
		for _, f := range []string{"status", "reason", "lastProbeTime", "message"} {
			switch rng.IntN(4) {
			case 0:
				parts = append(parts, fmt.Sprintf(`%q:%q`, f, pick("True", "False", "HOLE0", "")))
			case 1:
				parts = append(parts, fmt.Sprintf(`%q:null`, f))
			}
		}
		return "{" + joinJSON(parts) + "}"
	}
	list := func(elem func() string) string {
		n := rng.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = elem()
		}
		return "[" + joinJSON(parts) + "]"
	}
	container := func() string {
		state := pick(`{"waiting":{"reason":"X"}}`, `{"running":{"startedAt":"HOLE1"}}`, `{"terminated":{"exitCode":0,"reason":null}}`, `null`, `"odd"`)
		return fmt.Sprintf(`{"name":%q,"ready":%s,"state":%s}`, pick("a", "b", "c"), pick("true", "false", "null"), state)
	}
	ip := func() string { return fmt.Sprintf(`{"ip":%q}`, pick("10.0.0.1", "HOLE0", "HOLE1")) }
	field := func() string {
		switch rng.IntN(12) {
		case 0, 1, 2:
			return `"conditions":` + list(cond)
		case 3, 4:
			return `"containerStatuses":` + list(container)
		case 5:
			return `"podIPs":` + list(ip)
		case 6:
			return `"phase":` + pick(`"Running"`, `null`, `1`, `{"a":null}`, `["x"]`)
		case 7:
			return `"podIP":` + pick(`"HOLE0"`, `null`, `"10.1.1.1"`)
		case 8:
			return `"nominatedNodeName":` + pick(`"n"`, `null`)
		case 9:
			return `"conditions":` + pick(`null`, `{"type":"Ready"}`, `["Ready"]`, `[{"type":"Ready","$patch":"delete"}]`)
		case 10:
			return `"initContainerStatuses":` + list(container)
		default:
			return `"qosClass":` + pick(`"Burstable"`, `"BestEffort"`)
		}
	}
	status := func() string {
		n := rng.IntN(5)
		parts := make([]string, 0, n)
		seen := map[string]bool{}
		for range n {
			f := field()
			name := f[:indexByte(f, ':')]
			if !seen[name] {
				seen[name] = true
				parts = append(parts, f)
			}
		}
		return "{" + joinJSON(parts) + "}"
	}
	holes := []string{"10.9.9.9", "2006-01-02T15:04:05Z"}
	tested := 0
	for i := range 3000 {
		objJS := `{"kind":"Pod","metadata":{"name":"p"},"status":` + status() + `}`
		var obj map[string]any
		if err := json.Unmarshal([]byte(objJS), &obj); err != nil {
			t.Fatalf("%s: %v", objJS, err)
		}
		obj = replaceHoleMarks(obj, holes).(map[string]any)
		patchJS := status()
		for _, root := range []string{"status", ""} {
			pjs := patchJS
			if root == "" {
				pjs = `{"status":` + patchJS + `,"metadata":{"labels":{"a":"b"}}}`
			}
			var pv any
			if err := json.Unmarshal([]byte(pjs), &pv); err != nil {
				t.Fatalf("%s: %v", pjs, err)
			}
			pv = replaceHoleMarks(pv, holes)
			pb, _ := json.Marshal(pv)
			p := treePatch(t, PatchStrategic, root, string(pb), holes)
			if p == nil {
				continue
			}
			tested++
			checkApplyTree(t, "Pod", obj, p, fmt.Sprintf("case %d root %q obj %s", i, root, objJS))
			sp := *p
			sp.Subresource = "status"
			checkApplyTree(t, "Pod", obj, &sp, fmt.Sprintf("case %d root %q status", i, root))
			mp := *p
			mp.Type = PatchMerge
			checkApplyTree(t, "Pod", obj, &mp, fmt.Sprintf("case %d merge", i))
		}
	}
	if tested < 1000 {
		t.Errorf("only %d patches had trees", tested)
	}
	// The reference itself is what the generated patches are judged by;
	// make sure it is the library's.
	_ = strategicpatch.StrategicMergeMapPatchUsingLookupPatchMeta
}

func replaceHoleMarks(v any, holes []string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = replaceHoleMarks(e, holes)
		}
	case []any:
		for i, e := range t {
			t[i] = replaceHoleMarks(e, holes)
		}
	case string:
		switch t {
		case "HOLE0":
			return holes[0]
		case "HOLE1":
			return holes[1]
		}
	}
	return v
}

func joinJSON(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ","
		}
		out += p
	}
	return out
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
