package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kwoksim/kwoksim/workloads/input"
)

const (
	seedDir = "../../testdata/seed"
	loadDir = "../../testdata/load"
	errDir  = "../../testdata/load/errors"
)

// TestLoadSeed pins the user's real manifests: the rest of kwoksim is built
// around them, so their exact decoding is part of the contract.
func TestLoadSeed(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		check func(t *testing.T, obj Object)
	}{
		{
			name: "node.yaml is the tainted kwok node",
			path: filepath.Join(seedDir, "node.yaml"),
			check: func(t *testing.T, obj Object) {
				node, ok := obj.Obj.(*corev1.Node)
				if !ok {
					t.Fatalf("got %T, want *corev1.Node", obj.Obj)
				}
				if node.Name != "kwok-node-0" {
					t.Errorf("name = %q, want kwok-node-0", node.Name)
				}
				want := corev1.Taint{Key: "kwok.x-k8s.io/node", Value: "fake", Effect: corev1.TaintEffectNoSchedule}
				if len(node.Spec.Taints) != 1 || !node.Spec.Taints[0].MatchTaint(&want) || node.Spec.Taints[0].Value != "fake" {
					t.Errorf("taints = %+v, want [%+v]", node.Spec.Taints, want)
				}
				if cpu := node.Status.Allocatable[corev1.ResourceCPU]; cpu.String() != "32" {
					t.Errorf("allocatable cpu = %s, want 32", cpu.String())
				}
				if node.APIVersion != "v1" || node.Kind != "Node" {
					t.Errorf("TypeMeta = %q %q, want v1 Node", node.APIVersion, node.Kind)
				}
			},
		},
		{
			name: "pod.yaml is the fake-pod deployment with 10 replicas",
			path: filepath.Join(seedDir, "pod.yaml"),
			check: func(t *testing.T, obj Object) {
				d, ok := obj.Obj.(*appsv1.Deployment)
				if !ok {
					t.Fatalf("got %T, want *appsv1.Deployment", obj.Obj)
				}
				if d.Name != "fake-pod" || d.Namespace != "default" {
					t.Errorf("name = %s/%s, want default/fake-pod", d.Namespace, d.Name)
				}
				if d.Spec.Replicas == nil || *d.Spec.Replicas != 10 {
					t.Errorf("replicas = %v, want 10", d.Spec.Replicas)
				}
				if tol := d.Spec.Template.Spec.Tolerations; len(tol) != 1 || tol[0].Key != "kwok.x-k8s.io/node" {
					t.Errorf("tolerations = %+v, want the kwok node toleration", tol)
				}
				if d.APIVersion != "apps/v1" || d.Kind != "Deployment" {
					t.Errorf("TypeMeta = %q %q, want apps/v1 Deployment", d.APIVersion, d.Kind)
				}
				// Defaulting is the simulator's job, with the real apiserver
				// defaults; the loader must hand over what the user wrote.
				if d.Spec.Strategy.Type != "" || d.Spec.RevisionHistoryLimit != nil {
					t.Errorf("deployment was defaulted: strategy %q, revisionHistoryLimit %v", d.Spec.Strategy.Type, d.Spec.RevisionHistoryLimit)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Load([]string{tt.path}, LoadOptions{})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(objs) != 1 {
				t.Fatalf("got %d objects, want 1", len(objs))
			}
			if want := (Source{File: tt.path, Doc: 1, Line: 1}); objs[0].Source != want {
				t.Errorf("source = %+v, want %+v", objs[0].Source, want)
			}
			tt.check(t, objs[0])
		})
	}
}

// loaded is what TestLoad expects of one object.
type loaded struct {
	gvk  string // "apiVersion/Kind", from the object's TypeMeta
	name string
	src  Source
}

func TestLoad(t *testing.T) {
	multi := filepath.Join(loadDir, "multi.yaml")
	list := filepath.Join(loadDir, "list.yaml")
	dir := filepath.Join(loadDir, "dir")
	jsonFile := filepath.Join(loadDir, "object.json")
	tests := []struct {
		name  string
		paths []string
		opts  LoadOptions
		want  []loaded
	}{
		{
			// The leading "---" opens the comment-only document 1; the Pod
			// is the 3rd document and starts on line 9.
			name:  "multi-document file with leading separator and comment-only document",
			paths: []string{multi},
			want: []loaded{
				{"v1/Node", "multi-node", Source{multi, 2, 4}},
				{"v1/Pod", "multi-pod", Source{multi, 3, 9}},
				{"apps/v1/ReplicaSet", "multi-rs", Source{multi, 4, 19}},
			},
		},
		{
			name:  "v1 List and typed PodList expand into items with their document's source",
			paths: []string{list},
			want: []loaded{
				{"v1/Node", "list-node", Source{list, 1, 1}},
				{"apps/v1/Deployment", "list-deploy", Source{list, 1, 1}},
				{"v1/Pod", "list-pod-a", Source{list, 2, 29}},
				{"v1/Pod", "list-pod-b", Source{list, 2, 29}},
			},
		},
		{
			name:  "directory in lexical order, skipping hidden, non-manifest files and subdirectories",
			paths: []string{dir},
			want: []loaded{
				{"v1/Node", "dir-node", Source{filepath.Join(dir, "10-node.yaml"), 1, 1}},
				{"v1/Pod", "dir-pod", Source{filepath.Join(dir, "9-pod.yml"), 1, 1}},
				{"v1/Node", "dir-json-node", Source{filepath.Join(dir, "a.json"), 1, 1}},
			},
		},
		{
			name:  "tab-indented JSON file",
			paths: []string{jsonFile},
			want:  []loaded{{"apps/v1/Deployment", "json-deploy", Source{jsonFile, 1, 1}}},
		},
		{
			name:  "paths in the order given",
			paths: []string{jsonFile, filepath.Join(seedDir, "node.yaml")},
			want: []loaded{
				{"apps/v1/Deployment", "json-deploy", Source{jsonFile, 1, 1}},
				{"v1/Node", "kwok-node-0", Source{filepath.Join(seedDir, "node.yaml"), 1, 1}},
			},
		},
		{
			// List and PodList are not in Kinds: wrappers are not checked,
			// only the objects they carry.
			name:  "kinds filter checks list items, not list wrappers",
			paths: []string{list},
			opts:  LoadOptions{Kinds: map[string]bool{"Node": true, "Deployment": true, "Pod": true}},
			want: []loaded{
				{"v1/Node", "list-node", Source{list, 1, 1}},
				{"apps/v1/Deployment", "list-deploy", Source{list, 1, 1}},
				{"v1/Pod", "list-pod-a", Source{list, 2, 29}},
				{"v1/Pod", "list-pod-b", Source{list, 2, 29}},
			},
		},
		{
			name:  "no paths, no objects",
			paths: nil,
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Load(tt.paths, tt.opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			checkLoaded(t, objs, tt.want)
		})
	}
}

func checkLoaded(t *testing.T, objs []Object, want []loaded) {
	t.Helper()
	var got []loaded
	for _, o := range objs {
		gvk := o.Obj.GetObjectKind().GroupVersionKind()
		acc, err := meta.Accessor(o.Obj)
		if err != nil {
			t.Fatalf("%s: %v", o.Source, err)
		}
		// The Go type must be the scheme's type for the kind it claims.
		kinds, _, err := scheme.Scheme.ObjectKinds(o.Obj)
		if err != nil || len(kinds) == 0 || kinds[0].Kind != gvk.Kind {
			t.Errorf("%s: %T does not match TypeMeta kind %q (%v)", o.Source, o.Obj, gvk.Kind, err)
		}
		got = append(got, loaded{gvk.GroupVersion().String() + "/" + gvk.Kind, acc.GetName(), o.Source})
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("objects:\n got %v\nwant %v", got, want)
	}
}

// TestLoadUndefaulted checks that a Pod comes back exactly as written: the
// apiserver would default restartPolicy, dnsPolicy and the container's
// terminationMessagePath, and the simulator must be the one to do that.
func TestLoadUndefaulted(t *testing.T) {
	objs, err := Load([]string{filepath.Join(loadDir, "multi.yaml")}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		pod, ok := o.Obj.(*corev1.Pod)
		if !ok {
			continue
		}
		if pod.Spec.RestartPolicy != "" || pod.Spec.DNSPolicy != "" || pod.Spec.Containers[0].TerminationMessagePath != "" {
			t.Errorf("pod was defaulted: %+v", pod.Spec)
		}
		return
	}
	t.Fatal("no pod in multi.yaml")
}

// TestLoadTextForms covers input shapes that are easier to write from the
// test than to keep in git (which may rewrite line endings).
func TestLoadTextForms(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []loaded // src.File is filled in
	}{
		{
			name:    "CRLF line endings and separators",
			content: "apiVersion: v1\r\nkind: Node\r\nmetadata:\r\n  name: a\r\n---\r\napiVersion: v1\r\nkind: Node\r\nmetadata:\r\n  name: b\r\n",
			want:    []loaded{{"v1/Node", "a", Source{"", 1, 1}}, {"v1/Node", "b", Source{"", 2, 6}}},
		},
		{
			name:    "UTF-8 byte order mark",
			content: "\ufeffapiVersion: v1\nkind: Node\nmetadata:\n  name: bom\n",
			want:    []loaded{{"v1/Node", "bom", Source{"", 1, 1}}},
		},
		{
			// A header comment before the first "---" is not a document.
			name:    "header comment then separator",
			content: "# header\n---\napiVersion: v1\nkind: Node\nmetadata:\n  name: first\n",
			want:    []loaded{{"v1/Node", "first", Source{"", 1, 3}}},
		},
		{
			name:    "consecutive separators count as empty documents",
			content: "apiVersion: v1\nkind: Node\nmetadata:\n  name: a\n---\n---\n\n---\napiVersion: v1\nkind: Node\nmetadata:\n  name: b\n",
			want:    []loaded{{"v1/Node", "a", Source{"", 1, 1}}, {"v1/Node", "b", Source{"", 4, 9}}},
		},
		{
			name:    "empty file",
			content: "",
			want:    nil,
		},
		{
			name:    "only comments and separators",
			content: "# nothing here\n---\n# still nothing\n---\n",
			want:    nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.yaml")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			objs, err := Load([]string{path}, LoadOptions{})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			for i := range tt.want {
				tt.want[i].src.File = path
			}
			checkLoaded(t, objs, tt.want)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	node := LoadOptions{Kinds: map[string]bool{"Node": true}}
	tests := []struct {
		name   string
		paths  []string
		opts   LoadOptions
		file   string
		line   int
		doc    int
		phrase string
		is     error // when set, errors.Is must find it
	}{
		{
			name:   "path does not exist",
			paths:  []string{filepath.Join(loadDir, "does-not-exist.yaml")},
			file:   filepath.Join(loadDir, "does-not-exist.yaml"),
			phrase: "no such file or directory",
			is:     fs.ErrNotExist,
		},
		{
			name:   "directory without manifests",
			paths:  []string{filepath.Join(loadDir, "nomanifests")},
			file:   filepath.Join(loadDir, "nomanifests"),
			phrase: "no .yaml, .yml or .json files in directory",
		},
		{
			// The error is on line 5 of the second document, which starts
			// on line 6: the reported line must be the file's line 10.
			name:   "YAML syntax error in the second document",
			paths:  []string{filepath.Join(errDir, "syntax.yaml")},
			file:   filepath.Join(errDir, "syntax.yaml"),
			line:   10,
			doc:    2,
			phrase: "yaml: mapping values are not allowed in this context",
		},
		{
			name:   "content after a separator",
			paths:  []string{filepath.Join(errDir, "bad-separator.yaml")},
			file:   filepath.Join(errDir, "bad-separator.yaml"),
			line:   5,
			doc:    2,
			phrase: `after the document separator "---" is not supported`,
		},
		{
			name:   "missing kind",
			paths:  []string{filepath.Join(errDir, "missing-kind.yaml")},
			file:   filepath.Join(errDir, "missing-kind.yaml"),
			line:   1,
			doc:    1,
			phrase: "missing kind",
		},
		{
			name:   "missing apiVersion",
			paths:  []string{filepath.Join(errDir, "missing-apiversion.yaml")},
			file:   filepath.Join(errDir, "missing-apiversion.yaml"),
			line:   1,
			doc:    1,
			phrase: "missing apiVersion",
		},
		{
			name:   "document is not a mapping",
			paths:  []string{filepath.Join(errDir, "not-mapping.yaml")},
			file:   filepath.Join(errDir, "not-mapping.yaml"),
			line:   1,
			doc:    1,
			phrase: "expected a mapping with apiVersion and kind, found a list",
		},
		{
			name:   "unknown apiVersion and kind",
			paths:  []string{filepath.Join(errDir, "unknown-kind.yaml")},
			file:   filepath.Join(errDir, "unknown-kind.yaml"),
			line:   1,
			doc:    1,
			phrase: `unknown kind "Foo" in apiVersion "example.com/v1"`,
		},
		{
			name:   "known kind in the wrong apiVersion names the right one",
			paths:  []string{filepath.Join(errDir, "wrong-group.yaml")},
			file:   filepath.Join(errDir, "wrong-group.yaml"),
			line:   1,
			doc:    1,
			phrase: `unknown kind "Deployment" in apiVersion "v1" (known: apps/v1 Deployment`,
		},
		{
			name:   "unknown field",
			paths:  []string{filepath.Join(errDir, "unknown-field.yaml")},
			file:   filepath.Join(errDir, "unknown-field.yaml"),
			line:   6,
			doc:    2,
			phrase: `strict decoding error: unknown field "spec.replica"`,
		},
		{
			name:   "duplicated field",
			paths:  []string{filepath.Join(errDir, "duplicate-field.yaml")},
			file:   filepath.Join(errDir, "duplicate-field.yaml"),
			line:   7,
			doc:    1,
			phrase: `strict decoding error: yaml: key "replicas" already set in map`,
		},
		{
			name:   "field of the wrong type",
			paths:  []string{filepath.Join(errDir, "wrong-type.yaml")},
			file:   filepath.Join(errDir, "wrong-type.yaml"),
			line:   1,
			doc:    1,
			phrase: "cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
		},
		{
			name:   "List item without kind",
			paths:  []string{filepath.Join(errDir, "list-item.yaml")},
			file:   filepath.Join(errDir, "list-item.yaml"),
			line:   1,
			doc:    1,
			phrase: "items[1]: missing kind",
		},
		{
			name:   "unknown field in a List wrapper",
			paths:  []string{filepath.Join(errDir, "list-field.yaml")},
			file:   filepath.Join(errDir, "list-field.yaml"),
			line:   1,
			doc:    1,
			phrase: `strict decoding error: unknown field "item"`,
		},
		{
			name:   "kind outside the accepted kinds",
			paths:  []string{filepath.Join(seedDir, "pod.yaml")},
			opts:   node,
			file:   filepath.Join(seedDir, "pod.yaml"),
			line:   1,
			doc:    1,
			phrase: `kind "Deployment" is not accepted here; expected Node`,
		},
		{
			name:   "List item outside the accepted kinds",
			paths:  []string{filepath.Join(loadDir, "list.yaml")},
			opts:   LoadOptions{Kinds: map[string]bool{"Pod": true, "Node": true}},
			file:   filepath.Join(loadDir, "list.yaml"),
			line:   1,
			doc:    1,
			phrase: `items[1]: kind "Deployment" is not accepted here; expected one of Node, Pod`,
		},
		{
			name:   "error in a directory names the joined path",
			paths:  []string{errDir},
			file:   filepath.Join(errDir, "bad-separator.yaml"),
			line:   5,
			doc:    2,
			phrase: "not supported",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Load(tt.paths, tt.opts)
			if err == nil {
				t.Fatalf("Load succeeded with %d objects, want an error", len(objs))
			}
			if objs != nil {
				t.Errorf("got %d objects along with the error, want none", len(objs))
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("errors.As(%T, *LoadError) = false: %v", err, err)
			}
			if le.File != tt.file || le.Line != tt.line || le.Doc != tt.doc {
				t.Errorf("LoadError at %s line %d doc %d, want %s line %d doc %d", le.File, le.Line, le.Doc, tt.file, tt.line, tt.doc)
			}
			prefix := tt.file + ": "
			if tt.line > 0 {
				prefix = fmt.Sprintf("%s:%d: ", tt.file, tt.line)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tt.phrase) {
				t.Errorf("error = %q, want prefix %q and phrase %q", msg, prefix, tt.phrase)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false", tt.is)
			}
		})
	}
}

// TestLoadReportsEveryError checks that one run reports the mistakes of all
// files, in input order, instead of stopping at the first.
func TestLoadReportsEveryError(t *testing.T) {
	entries, err := os.ReadDir(errDir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Load([]string{errDir, filepath.Join(loadDir, "does-not-exist.yaml")}, LoadOptions{})
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T is not a joined error: %v", err, err)
	}
	errs := joined.Unwrap()
	if len(errs) != len(entries)+1 {
		t.Fatalf("got %d errors, want one per file in %s plus the missing path (%d):\n%v", len(errs), errDir, len(entries)+1, err)
	}
	for i, e := range entries {
		var le *LoadError
		if !errors.As(errs[i], &le) || le.File != filepath.Join(errDir, e.Name()) {
			t.Errorf("error %d = %v, want a *LoadError for %s", i, errs[i], e.Name())
		}
	}
	if !errors.Is(errs[len(errs)-1], fs.ErrNotExist) {
		t.Errorf("last error = %v, want the missing path", errs[len(errs)-1])
	}
}

func TestSourceString(t *testing.T) {
	tests := []struct {
		name string
		src  Source
		want string
	}{
		{"single document", Source{"path/file.yaml", 1, 1}, "path/file.yaml:1"},
		{"later document", Source{"path/file.yaml", 2, 12}, "path/file.yaml:12 (document 2)"},
		{"no position", Source{File: "path/file.yaml"}, "path/file.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.src.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *LoadError
		want string
	}{
		{"with line", &LoadError{File: "bad.yaml", Line: 7, Doc: 2, Msg: "yaml: oops"}, "bad.yaml:7: yaml: oops"},
		{"without line", &LoadError{File: "dir", Msg: "no .yaml, .yml or .json files in directory"}, "dir: no .yaml, .yml or .json files in directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLoadSymlinks follows links in a directory, as kubectl does, and names a dangling one.
func TestLoadSymlinks(t *testing.T) {
	dir := t.TempDir()
	seed, err := filepath.Abs(filepath.Join(seedDir, "node.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "node.yaml")
	if err := os.Symlink(seed, link); err != nil {
		t.Fatal(err)
	}
	objs, err := Load([]string{dir}, LoadOptions{Kinds: map[string]bool{"Node": true}})
	if err != nil {
		t.Fatal(err)
	}
	checkLoaded(t, objs, []loaded{{"v1/Node", "kwok-node-0", Source{link, 1, 1}}})

	if err := os.Symlink("gone.yaml", filepath.Join(dir, "z.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err = Load([]string{dir}, LoadOptions{})
	var le *LoadError
	want := filepath.Join(dir, "z.yaml") + ": symbolic link to gone.yaml, which does not exist"
	if !errors.As(err, &le) || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestLoadStdin reads "-" from the Reader's standard input, once, and refuses it without one.
func TestLoadStdin(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(seedDir, "node.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	in := &input.Reader{Stdin: bytes.NewReader(data)}
	objs, err := Load([]string{input.Stdin}, LoadOptions{Input: in})
	if err != nil {
		t.Fatal(err)
	}
	checkLoaded(t, objs, []loaded{{"v1/Node", "kwok-node-0", Source{"<stdin>", 1, 1}}})
	if _, err := Load([]string{input.Stdin}, LoadOptions{Input: in}); err == nil || !strings.Contains(err.Error(), "<stdin>: standard input (-) can be read only once") {
		t.Errorf("second read of standard input: %v", err)
	}
	if _, err := Load([]string{input.Stdin}, LoadOptions{}); err == nil || err.Error() != "<stdin>: standard input (-) is not accepted here; give a file" {
		t.Errorf("standard input without a Reader: %v", err)
	}
}

// zeros is /dev/zero: it never ends.
type zeros struct{ read int }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.read += len(p)
	return len(p), nil
}

// TestLoadEndless is `--nodes /dev/zero`: refused after about the limit, not read whole.
func TestLoadEndless(t *testing.T) {
	z := &zeros{}
	_, err := Load([]string{input.Stdin}, LoadOptions{Input: &input.Reader{Stdin: z}, MaxDocumentBytes: 1 << 20})
	want := "<stdin>:1: document 1 is at least "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, input.ErrTooLarge) {
		t.Errorf("error %v, want %q…", err, want)
	}
	if z.read > 2<<20 {
		t.Errorf("read %d bytes for a limit of 1 MiB", z.read)
	}
}
