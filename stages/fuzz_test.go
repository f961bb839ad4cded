package stages

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The fuzz targets hold the stage engine to its contract with untrusted stage files and
// objects: it never panics or runs unbounded (jq step budget, CEL cost limit, template
// output cap and loop budget), and every error is an error value naming the file and stage.
// `make fuzz` runs each for a set time; plain `go test` runs the seed corpus, which is every
// stage file and golden input in the repository plus testdata/fuzz/FuzzX/ (found crashes).

const fuzzSource = "fuzz-stages.yaml"

// stageFiles are the repository's stage files: KWOK's, the built-in set, the bad ones.
func fuzzStageFiles(t testing.TB) []string {
	var files []string
	for _, pattern := range []string{"../testdata/kwok/stages/*/*/*.yaml", "default/*.yaml", "../testdata/bad/stages-*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if filepath.Base(f) != "kustomization.yaml" {
				files = append(files, f)
			}
		}
	}
	if len(files) < 20 {
		t.Fatalf("found only %d stage files", len(files))
	}
	return files
}

func readFile(t testing.TB, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkStageError holds an error to the contract: a value whose message starts with the
// file it came from.
func checkStageError(t *testing.T, what string, err error) {
	t.Helper()
	if !strings.HasPrefix(err.Error(), fuzzSource+": ") {
		t.Fatalf("%s: error does not name its input %s: %v", what, fuzzSource, err)
	}
}

func FuzzParseStages(f *testing.F) {
	for _, file := range fuzzStageFiles(f) {
		f.Add(readFile(f, file))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse(data, fuzzSource)
		if err != nil {
			checkStageError(t, "Parse", err)
			return
		}
		for _, s := range set {
			if s.Name == "" || s.Kind == "" || s.Source() != fuzzSource {
				t.Fatalf("stage %+v lacks a name, kind or source", s)
			}
		}
	})
}

// loopStages are stage templates that print nothing and loop for hours without the loop
// budget; recursion that branches is exponential long before text/template's depth limit
// (2^40 invocations at depth 40).
var loopStages = []string{
	`{{range 1000000000000}}{{end}}`,
	`{{range until 100000}}{{range until 100000}}{{end}}{{end}}`,
	`{{define "a"}}{{if lt (len .) 40}}{{template "a" (print . "x")}}{{template "a" (print . "x")}}{{end}}{{end}}{{template "a" ""}}`,
}

// growStages double a value they never print; 40 rounds would be a terabyte.
var growStages = []string{
	`{{$x := "ab"}}{{range until 40}}{{$x = print $x $x}}{{end}}`,
	`{{$x := "ab"}}{{range until 40}}{{$x = printf "%s%s" $x $x}}{{end}}`,
	`{{$l := list 1}}{{range until 40}}{{$l = concat $l $l}}{{end}}`,
	`{{$x := "\""}}{{range until 40}}{{$x = toJson $x}}{{end}}`,
	`{{$x := "ab"}}{{range until 40}}{{$x = b64enc (cat $x $x)}}{{end}}`,
}

func loopStage(tmpl string) []byte {
	return []byte(stageDoc("loop", "Pod", "selector:\n  matchExpressions:\n  - key: .metadata.name\n    operator: Exists\n"+
		"next:\n  statusTemplate: '"+strings.ReplaceAll(tmpl, "'", "''")+"'\n"))
}

func FuzzStageEval(f *testing.F) {
	pod := readFile(f, "../testdata/kwok/stages/pod/general/testdata/pod-ready.input.yaml")
	// Each profile's stages, as one file, with each of its golden inputs.
	profiles, _ := filepath.Glob("../testdata/kwok/stages/*/*")
	for _, dir := range profiles {
		var set [][]byte
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			if filepath.Base(file) != "kustomization.yaml" {
				set = append(set, readFile(f, file))
			}
		}
		inputs, _ := filepath.Glob(filepath.Join(dir, "testdata", "*.input.yaml"))
		for i, in := range inputs {
			f.Add(bytes.Join(set, []byte("\n---\n")), readFile(f, in), uint64(i))
		}
	}
	for _, file := range fuzzStageFiles(f) {
		f.Add(readFile(f, file), pod, uint64(1))
	}
	for _, tmpl := range append(loopStages, growStages...) {
		f.Add(loopStage(tmpl), pod, uint64(1))
	}
	f.Fuzz(func(t *testing.T, stageData, objData []byte, seed uint64) {
		set, err := Parse(stageData, fuzzSource)
		if err != nil || len(set) == 0 {
			return
		}
		js, err := yaml.YAMLToJSON(objData)
		if err != nil {
			return
		}
		var obj map[string]any
		if json.Unmarshal(js, &obj) != nil || obj == nil {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 0))
		kinds := map[string]bool{}
		for _, s := range set {
			if kinds[s.Kind] {
				continue
			}
			kinds[s.Kind] = true
			matched, err := Match(set, s.Kind, obj)
			if err != nil {
				checkStageError(t, "Match", err)
				continue
			}
			for _, m := range matched {
				if _, _, err := m.Weight(obj); err != nil {
					checkStageError(t, "Weight", err)
				}
				if d, err := m.Delay(obj, kwokNow, rng); err != nil {
					checkStageError(t, "Delay", err)
				} else if d < 0 {
					t.Fatalf("stage %s: negative delay %v", m.Name, d)
				}
				if _, err := m.Steps(obj, stubEnv{}); err != nil {
					checkStageError(t, "Steps", err)
				}
			}
			if _, err := Pick(matched, obj, rng); err != nil {
				checkStageError(t, "Pick", err)
			}
		}
	})
}

// The loop budget and the size checks turn each of loopStages and growStages into an error
// naming the stage and the limit.
func TestTemplateBudgets(t *testing.T) {
	obj := mustObject(t, `{"metadata":{"name":"p"}}`)
	for _, tmpl := range loopStages {
		set, err := Parse(loopStage(tmpl), fuzzSource)
		if err != nil {
			t.Fatalf("%s: %v", tmpl, err)
		}
		_, err = set[0].Steps(obj, stubEnv{})
		if err == nil || !errors.Is(err, ErrLoopLimit) || !strings.HasPrefix(err.Error(), fuzzSource+`: stage "loop"`) {
			t.Errorf("%s: got %v, want the loop limit", tmpl, err)
		}
	}
	for _, tmpl := range growStages {
		set, err := Parse(loopStage(tmpl), fuzzSource)
		if err != nil {
			t.Fatalf("%s: %v", tmpl, err)
		}
		_, err = set[0].Steps(obj, stubEnv{})
		if err == nil || !errors.Is(err, ErrRenderTooLarge) || !strings.HasPrefix(err.Error(), fuzzSource+`: stage "loop"`) {
			t.Errorf("%s: got %v, want the size cap", tmpl, err)
		}
	}
	// Within the budget, ranges and invocations behave as text/template's own.
	set, err := Parse(loopStage(`{{define "c"}}{{.}}{{end}}phase: {{range $i, $x := until 3}}{{template "c" $x}}{{end}}{{range 2}}{{.}}{{end}}{{range .metadata}}{{.}}{{end}}`), fuzzSource)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := set[0].Steps(obj, stubEnv{})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(steps[0].Patch.Data); got != `{"status":{"phase":"01201p"}}` {
		t.Errorf("rendered %s", got)
	}
}
