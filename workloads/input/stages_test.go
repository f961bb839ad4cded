package input

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/stages"
)

// stageDoc is a Stage document for pods with an empty selector.
func stageDoc(name string) string {
	return "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Stage\nmetadata:\n  name: " + name +
		"\nspec:\n  resourceRef:\n    apiGroup: v1\n    kind: Pod\n  selector: {}\n"
}

func stageNames(set []*stages.Stage) []string {
	var names []string
	for _, s := range set {
		names = append(names, s.Name)
	}
	return names
}

// TestStagesDirectory reads directories as KWOK does: *.yaml and *.yml in lexical order, not
// recursively, without kustomization.yaml and hidden files, links followed.
func TestStagesDirectory(t *testing.T) {
	dir := tree(t, map[string]string{
		"b.yaml":                      stageDoc("b1") + "---\n" + stageDoc("b2"),
		"a.yml":                       stageDoc("a"),
		"kustomization.yaml":          "resources: [a.yml]\n",
		".hidden.yaml":                "not: a stage\n",
		"notes.txt":                   "not yaml\n",
		"sub/c.yaml":                  stageDoc("c"),
		"z.yaml":                      stageDoc("z"),
		"linked.yaml":                 "->../shared/linked-stage.yaml",
		"../shared/linked-stage.yaml": stageDoc("linked"),
		"storage.yaml":                "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: s\n",
	})
	set, skipped, err := new(Reader).Stages([]string{dir, filepath.Join(dir, "sub", "c.yaml")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stageNames(set), []string{"a", "b1", "b2", "linked", "z", "c"}; !slices.Equal(got, want) {
		t.Errorf("stages = %v, want %v", got, want)
	}
	if len(skipped) != 1 || skipped[0].String() != filepath.Join(dir, "storage.yaml")+": document 1: storage.k8s.io/v1 StorageClass is not a Stage; skipped" {
		t.Errorf("skipped = %v", skipped)
	}
	if set[3].Source() != filepath.Join(dir, "linked.yaml") {
		t.Errorf("the linked stage's source is %s, want the link", set[3].Source())
	}
}

func TestStagesErrors(t *testing.T) {
	dir := tree(t, map[string]string{
		"bad/x.yaml":     stageDoc("x") + "  weight: -1\n",
		"broken/a.yaml":  stageDoc("a"),
		"broken/b.yaml":  "->gone.yaml",
		"big.yaml":       stageDoc("a") + "---\n" + stageDoc(strings.Repeat("b", 300)),
		"separator.yaml": stageDoc("a") + "--- x: 1\n",
	})
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing path", "missing", "missing: no such file or directory"},
		{"a stage that does not compile names its file", "bad", "bad/x.yaml"},
		{"dangling link", "broken", "broken/b.yaml: symbolic link to gone.yaml, which does not exist"},
		{"a document over the limit", "big.yaml", "big.yaml:11: document 2 is 433 bytes, more than the limit of 200 bytes (raise it with --max-document-bytes)"},
		{"content after a separator", "separator.yaml", `separator.yaml:10: content "x: 1" after the document separator`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := new(Reader).Stages([]string{filepath.Join(dir, tc.path)}, 200)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestStagesStdin(t *testing.T) {
	r := &Reader{Stdin: strings.NewReader(stageDoc("from-stdin"))}
	set, _, err := r.Stages([]string{Stdin}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(set) != 1 || set[0].Name != "from-stdin" || set[0].Source() != StdinName {
		t.Errorf("stages %v from %v", stageNames(set), set)
	}
	_, _, err = r.Stages([]string{Stdin}, 0)
	var e *Error
	if !errors.As(err, &e) || e.File != StdinName {
		t.Errorf("standard input read twice: %v", err)
	}
}
