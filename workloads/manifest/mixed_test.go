package manifest

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
)

// servesCore stands for the simulator in these tests: it serves Pods, Nodes and Namespaces.
func servesCore(obj runtime.Object) bool {
	switch obj.(type) {
	case *corev1.Pod, *corev1.Node, *corev1.Namespace:
		return true
	}
	return false
}

func TestLoadMixed(t *testing.T) {
	doc := func(apiVersion, kind, extra string) string {
		return "apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata:\n  name: x\n" + extra
	}
	hook := "  annotations:\n    helm.sh/hook: pre-install\n"
	for _, tc := range []struct {
		name    string
		yaml    string
		kept    []string // kinds kept
		skipped []string // "kind: reason"
		err     string
	}{
		{name: "served kinds are kept", yaml: doc("v1", "Pod", "") + "---\n" + doc("v1", "Node", ""), kept: []string{"Pod", "Node"}},
		{name: "a built-in kind not served is skipped", yaml: doc("v1", "ConfigMap", "") + "---\n" + doc("apps/v1", "ControllerRevision", "revision: 1\n"),
			skipped: []string{"ConfigMap: " + ReasonNotSimulated, "ControllerRevision: " + ReasonNotSimulated}},
		{name: "a CRD is skipped", yaml: doc("apiextensions.k8s.io/v1", "CustomResourceDefinition", "spec: {}\n"),
			skipped: []string{"CustomResourceDefinition: " + ReasonCRD}},
		{name: "a custom resource is skipped, whatever its fields", yaml: doc("example.com/v1alpha1", "Widget", "spec: {anything: [1, 2]}\n"),
			skipped: []string{"Widget: " + ReasonCustom}},
		{name: "a custom resource's list is skipped", yaml: "apiVersion: example.com/v1\nkind: WidgetList\nitems: []\n",
			skipped: []string{"WidgetList: " + ReasonCustom}},
		{name: "a Helm hook of a served kind is skipped", yaml: doc("v1", "Pod", hook) + "---\n" + doc("v1", "Pod", ""),
			kept: []string{"Pod"}, skipped: []string{"Pod: " + ReasonHelmHook}},
		{name: "a Helm hook that is a custom resource is skipped as a hook", yaml: doc("example.com/v1", "Widget", hook),
			skipped: []string{"Widget: " + ReasonHelmHook}},
		{name: "List items are sorted out one by one",
			yaml: "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n- {apiVersion: v1, kind: Namespace, metadata: {name: ns}}\n",
			kept: []string{"Namespace"}, skipped: []string{"Secret: " + ReasonNotSimulated}},
		{name: "a misspelt kind of a built-in group is an error", yaml: doc("apps/v1", "Deploymnet", ""),
			err: `x.yaml:1: unknown kind "Deploymnet" in apiVersion "apps/v1"`},
		{name: "an unknown version of a built-in group is an error", yaml: doc("apps/v1beta9", "Deployment", ""),
			err: `unknown kind "Deployment" in apiVersion "apps/v1beta9" (known: apps/v1 Deployment`},
		{name: "a group without a dot cannot be a custom resource's: a misspelt built-in group", yaml: doc("app/v1", "Deployment", ""),
			err: `unknown kind "Deployment" in apiVersion "app/v1" (known: apps/v1 Deployment`},
		{name: "a misspelt field of a skipped built-in kind is still an error", yaml: doc("v1", "ConfigMap", "dta: {}\n"),
			err: `unknown field "dta"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &loader{opts: LoadOptions{Served: servesCore}}
			l.loadReader("x.yaml", strings.NewReader(tc.yaml))
			objs, err := l.result()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var kept, skipped []string
			for _, o := range objs {
				kept = append(kept, o.Obj.GetObjectKind().GroupVersionKind().Kind)
			}
			for _, s := range l.skipped {
				skipped = append(skipped, s.Kind+": "+s.Reason)
				if s.Source.File != "x.yaml" || s.Source.Line < 1 {
					t.Errorf("skipped %s has source %v", s.Kind, s.Source)
				}
			}
			if strings.Join(kept, ",") != strings.Join(tc.kept, ",") {
				t.Errorf("kept %v, want %v", kept, tc.kept)
			}
			if strings.Join(skipped, "\n") != strings.Join(tc.skipped, "\n") {
				t.Errorf("skipped:\n%s\nwant:\n%s", strings.Join(skipped, "\n"), strings.Join(tc.skipped, "\n"))
			}
		})
	}
}

// Objects sort by kind in Helm's install order, unknown kinds last by name, keeping the input
// order within a kind; the DRA kinds, which Helm does not list, come after the storage kinds
// and before the workloads.
func TestSortInstallOrder(t *testing.T) {
	yaml := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d1}
---
apiVersion: v1
kind: Pod
metadata: {name: p1}
---
apiVersion: v1
kind: Namespace
metadata: {name: ns}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d0}
---
apiVersion: v1
kind: Node
metadata: {name: node}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: pc}
value: 1
---
apiVersion: batch/v1
kind: Job
metadata: {name: j}
---
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {name: t}
spec: {spec: {}}
---
apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: s}
spec: {driver: d, pool: {name: p, resourceSliceCount: 1}, allNodes: true}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: c}
---
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: dc}
`
	objs, err := LoadBytes("x.yaml", []byte(yaml), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	SortInstallOrder(objs)
	var got []string
	for _, o := range objs {
		m, _ := meta.Accessor(o.Obj)
		got = append(got, o.Obj.GetObjectKind().GroupVersionKind().Kind+"/"+m.GetName())
	}
	want := []string{"PriorityClass/pc", "Namespace/ns", "PersistentVolumeClaim/c", "DeviceClass/dc", "ResourceSlice/s",
		"ResourceClaimTemplate/t", "Pod/p1", "Deployment/d1", "Deployment/d0", "Job/j", "Node/node"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}
