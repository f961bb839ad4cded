package manifest

import (
	"encoding/json"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// Inputs of any mix of kinds, as `helm template` or `kubectl kustomize` print them: what the
// simulator stores is kept, everything else is skipped with its reason, and only mistakes
// (a misspelt built-in kind or apiVersion, a malformed document) are errors.

// Skipped is one object a mixed load left out, and why.
type Skipped struct {
	APIVersion, Kind string
	// Reason is one of the Reason constants, so that skipped objects group by it.
	Reason string
	Source Source
}

// Why objects are skipped. Each is constant so that a report can count objects per reason.
const (
	ReasonNotSimulated = "kwoksim does not simulate this kind"
	ReasonCRD          = "custom resource definitions are not simulated: kwoksim serves only built-in kinds"
	ReasonCustom       = "custom resource: its API group is not built into Kubernetes"
	// ReasonHelmHook: Helm runs hook objects around an install or upgrade and deletes them by
	// their helm.sh/hook-delete-policy (pkg/action/hooks.go), so they are not left running.
	ReasonHelmHook = "Helm hook (helm.sh/hook annotation): Helm runs it around the install and deletes it, it is not part of the release"
)

// helmHookAnnotation marks a Helm hook; its presence alone makes one, as in Helm's
// pkg/release/v1/util/manifest_sorter.go (sortManifestsByHook).
const helmHookAnnotation = "helm.sh/hook"

// LoadMixed is Load for inputs of any mix of kinds: an object the simulator stores (served
// reports which) is kept; a Helm hook, a CustomResourceDefinition, a custom resource and a
// built-in kind the simulator does not store are skipped and listed, in input order. A kind
// or apiVersion the client-go scheme does not know in a built-in group (apps/v1 Deploymnet,
// apps/v1beta9) stays an error, with its hint. opts.Served is replaced by served.
func LoadMixed(paths []string, opts LoadOptions, served func(runtime.Object) bool) ([]Object, []Skipped, error) {
	l := &loader{opts: opts, in: opts.input()}
	l.opts.Served = served
	l.loadPaths(paths)
	objs, err := l.result()
	if err != nil {
		return nil, nil, err
	}
	return objs, l.skipped, nil
}

// skipUndecoded is why an object is skipped before it is decoded, "" when it is not: a Helm
// hook, or a kind of a group the client-go scheme does not know, which cannot be decoded. A
// group without a dot cannot be a custom resource's (the apiserver requires "a domain with at
// least one dot": apiextensions-apiserver pkg/apis/apiextensions/validation/validation.go,
// ValidateCustomResourceDefinitionSpec), so an unknown one is a misspelt built-in group, left
// to fail with the kinds that do exist.
func skipUndecoded(gvk schema.GroupVersionKind, fields map[string]json.RawMessage) string {
	if isHelmHook(fields) {
		return ReasonHelmHook
	}
	if scheme.Scheme.IsGroupRegistered(gvk.Group) {
		return ""
	}
	switch {
	case gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition":
		return ReasonCRD
	case strings.Contains(gvk.Group, "."):
		return ReasonCustom
	}
	return ""
}

// isHelmHook reports whether an object's metadata carries the helm.sh/hook annotation. A
// malformed metadata is not a hook: decoding reports it.
func isHelmHook(fields map[string]json.RawMessage) bool {
	var m struct {
		Annotations map[string]json.RawMessage `json:"annotations"`
	}
	if json.Unmarshal(fields["metadata"], &m) != nil {
		return false
	}
	_, ok := m.Annotations[helmHookAnnotation]
	return ok
}
