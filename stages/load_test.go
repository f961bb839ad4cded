package stages

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want []string // substrings of the error
	}{
		{"wrong kind", "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Stages\nmetadata:\n  name: x\n",
			[]string{"bad.yaml", "document 1", `kind "Stages"`}},
		{"wrong apiVersion", "apiVersion: v1\nkind: Stage\nmetadata:\n  name: x\n",
			[]string{"bad.yaml", `apiVersion "v1"`}},
		{"missing name", "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Stage\nspec:\n  resourceRef:\n    kind: Pod\n",
			[]string{"bad.yaml", "metadata.name"}},
		{"missing kind", stageDoc("s", "''", "selector: {}"),
			[]string{"bad.yaml", `stage "s"`, "spec.resourceRef.kind"}},
		{"bad jq", stageDoc("s", "Pod", jqSelector(".[", "Exists")),
			[]string{"bad.yaml", `stage "s"`, "spec.selector.matchExpressions[0]", `key ".["`}},
		{"bad operator", stageDoc("s", "Pod", jqSelector(".a", "Has")),
			[]string{`stage "s"`, "matchExpressions[0]", `operator "Has"`}},
		{"In without values", stageDoc("s", "Pod", jqSelector(".a", "In")),
			[]string{"matchExpressions[0]", "needs values"}},
		{"Exists with values", stageDoc("s", "Pod", jqSelector(".a", "Exists", "x")),
			[]string{"matchExpressions[0]", "takes no values"}},
		{"empty expression", stageDoc("s", "Pod", "selector:\n  matchExpressions:\n  - {}\n"),
			[]string{"matchExpressions[0]", "needs jq"}},
		{"bad CEL", stageDoc("s", "Pod", celSelector("self.a ==")),
			[]string{`stage "s"`, "matchExpressions[0].cel.expression"}},
		{"non-bool CEL selector", stageDoc("s", "Pod", celSelector("self.metadata.name + 'x'")),
			[]string{"matchExpressions[0].cel.expression", "type string"}},
		{"bad weightFrom jq", stageDoc("s", "Pod", "weightFrom:\n  expressionFrom: '.['\n"),
			[]string{"spec.weightFrom.jq.expression"}},
		{"bad weightFrom CEL type", stageDoc("s", "Pod", "weightFrom:\n  cel:\n    expression: \"'x'\"\n"),
			[]string{"spec.weightFrom.cel.expression", "type string"}},
		{"bad durationFrom", stageDoc("s", "Pod", "delay:\n  durationFrom:\n    jq:\n      expression: '.['\n"),
			[]string{"spec.delay.durationFrom.jq.expression"}},
		{"negative weight", stageDoc("s", "Pod", "weight: -1\n"), []string{"spec.weight"}},
		{"negative delay", stageDoc("s", "Pod", "delay:\n  durationMilliseconds: -5\n"),
			[]string{"spec.delay.durationMilliseconds"}},
		{"duration past time.Duration", stageDoc("s", "Pod", "delay:\n  durationMilliseconds: 9e15\n"),
			[]string{`stage "s"`, "spec.delay.durationMilliseconds", "more than a duration holds"}},
		{"jitter past time.Duration", stageDoc("s", "Pod", "delay:\n  jitterDurationMilliseconds: 9223372036855\n"),
			[]string{`stage "s"`, "spec.delay.jitterDurationMilliseconds", "more than a duration holds"}},
		{"jq $ENV", stageDoc("s", "Pod", "delay:\n  durationFrom:\n    jq:\n      expression: '$ENV.DELAY'\n"),
			[]string{`stage "s"`, "spec.delay.durationFrom.jq.expression", "$ENV"}},
		{"jq env", stageDoc("s", "Pod", jqSelector("env.HOME", "Exists")),
			[]string{`stage "s"`, "matchExpressions[0]", "$ENV"}},
		{"jq $ENV in weightFrom", stageDoc("s", "Pod", "weightFrom:\n  expressionFrom: '$ENV | length'\n"),
			[]string{`stage "s"`, "spec.weightFrom.jq.expression", "$ENV"}},
		{"bad template", stageDoc("s", "Pod", "next:\n  statusTemplate: '{{ .a '\n"),
			[]string{`stage "s"`, "spec.next (as spec.steps[0]).patch.template"}},
		{"removed sprig function", stageDoc("s", "Pod", "steps:\n- patch:\n    template: '{{ env \"HOME\" }}'\n"),
			[]string{`stage "s"`, "spec.steps[0].patch.template", `function "env" not defined`, "wall clock"}},
		{"unknown function", stageDoc("s", "Pod", "steps:\n- patch:\n    template: '{{ Nope }}'\n"),
			[]string{"spec.steps[0].patch.template", `function "Nope" not defined`}},
		{"bad patch type", stageDoc("s", "Pod", "steps:\n- patch:\n    type: apply\n    template: 'a: 1'\n"),
			[]string{"spec.steps[0].patch.type", `"apply"`}},
		{"bad apply type", stageDoc("s", "Pod", "steps:\n- apply:\n    type: json\n    template: 'a: 1'\n"),
			[]string{"spec.steps[0].apply.type", `"json"`}},
		{"second document", stageDoc("a", "Pod", "selector: {}") + "---\n" + stageDoc("b", "Pod", jqSelector(".[", "Exists")),
			[]string{`stage "b"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "bad.yaml")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParseDefaultsAndDocuments(t *testing.T) {
	doc := "---\n# only a comment\n---\n" +
		"apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Stage\nmetadata:\n  name: a\nspec:\n  resourceRef:\n    kind: Pod\n  selector: {}\n" +
		"---\n" + stageDoc("b", "Node", "weight: 3\nimmediateNextStage: true")
	stages, err := Parse([]byte(doc), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 2 {
		t.Fatalf("%d stages, want 2", len(stages))
	}
	a, b := stages[0], stages[1]
	if a.Name != "a" || a.APIGroup != "v1" || a.Kind != "Pod" || !a.typedCore {
		t.Errorf("a = %+v: want apiGroup defaulted to v1, kind Pod", a)
	}
	if b.Name != "b" || b.Kind != "Node" || b.selector != nil || !b.ImmediateNextStage() || b.weight != 3 {
		t.Errorf("b = %+v", b)
	}
}

// TestEveryStageFileParses parses every file in the KWOK stage tree that
// holds Stage documents.
func TestEveryStageFileParses(t *testing.T) {
	root := filepath.Join("..", "testdata", "kwok", "stages")
	n := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".yaml" ||
			filepath.Base(p) == "kustomization.yaml" || filepath.Base(filepath.Dir(p)) == "testdata" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		docs, err := stageDocuments(data)
		if err != nil {
			return err
		}
		if len(docs) == 0 {
			return nil // a StorageClass, the CRD
		}
		stages, err := Parse(data, p)
		if err != nil {
			t.Errorf("Parse: %v", err)
			return nil
		}
		n += len(stages)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 15 {
		t.Errorf("parsed %d stages, want the whole KWOK tree (≥ 15)", n)
	}
}

func TestDefault(t *testing.T) {
	got := Default()
	want := []string{"node-initialize", "node-heartbeat-with-lease", "pod-ready", "pod-run-duration", "pod-complete", "pod-delete", "pvc-provision", "pv-delete"}
	if !slices.Equal(stageNames(got), want) {
		t.Fatalf("Default() = %v, want %v", stageNames(got), want)
	}
	for _, s := range got {
		if s.APIGroup != "v1" || !slices.Contains([]string{"Pod", "Node", "PersistentVolumeClaim", "PersistentVolume"}, s.Kind) || s.selector == nil {
			t.Errorf("%s: %s/%s, selector %v", s.Name, s.APIGroup, s.Kind, s.selector)
		}
	}
	got[0] = nil
	if Default()[0] == nil {
		t.Error("Default shares its slice with callers")
	}
	// The embedded files are KWOK's, unchanged.
	for _, f := range []string{"node/fast/node-initialize.yaml", "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
		"pod/fast/pod-ready.yaml", "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml"} {
		orig, err := os.ReadFile(filepath.Join("..", "testdata", "kwok", "stages", f))
		if err != nil {
			t.Fatal(err)
		}
		emb, err := defaultFS.ReadFile("default/" + filepath.Base(f))
		if err != nil {
			t.Fatal(err)
		}
		if string(orig) != string(emb) {
			t.Errorf("default/%s differs from KWOK's %s", filepath.Base(f), f)
		}
	}
}
