package stages

import (
	"encoding/json"
	"strings"
	"testing"
)

// stageDoc builds a Stage document for kind Pod with the given spec body
// (indented under spec:, without resourceRef).
func stageDoc(name, kind, spec string) string {
	var b strings.Builder
	b.WriteString("apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Stage\nmetadata:\n  name: " + name + "\nspec:\n")
	b.WriteString("  resourceRef:\n    apiGroup: v1\n    kind: " + kind + "\n")
	for _, line := range strings.Split(strings.Trim(spec, "\n"), "\n") {
		b.WriteString("  " + line + "\n")
	}
	return b.String()
}

func mustStage(t *testing.T, name, kind, spec string) *Stage {
	t.Helper()
	stages, err := Parse([]byte(stageDoc(name, kind, spec)), name+".yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(stages) != 1 {
		t.Fatalf("Parse: %d stages", len(stages))
	}
	return stages[0]
}

// mustObject decodes a JSON object the way the simulator hands objects over.
func mustObject(t *testing.T, js string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// jsonEqual compares two JSON documents semantically.
func jsonEqual(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v: %s", err, want)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return string(gb) == string(wb)
}
