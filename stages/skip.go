package stages

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kwok/pkg/apis/v1alpha1"
)

// Skipped is a document a stage file holds that is not a Stage.
type Skipped struct {
	Source           string
	Doc              int
	APIVersion, Kind string
}

func (s Skipped) String() string {
	return fmt.Sprintf("%s: document %d: %s %s is not a Stage; skipped", s.Source, s.Doc, s.APIVersion, s.Kind)
}

// kwokScheme knows KWOK's own v1alpha1 kinds (Stage, Attach, Logs, Metric, ...).
var kwokScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// skippable reports whether a document is something other than a Stage that a stage file may
// legitimately hold: another Kubernetes object, a KWOK configuration, or another KWOK kind.
// KWOK's loader skips every kind it has no handler for; kwoksim is stricter inside KWOK's own
// group, where an unknown kind ("Stages") is a typo worth an error, and a document that says
// kind Stage must be a valid one.
func skippable(tm metav1.TypeMeta) bool {
	if tm.Kind == v1alpha1.StageKind || tm.Kind == "" || tm.APIVersion == "" {
		return false
	}
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil {
		return false
	}
	if gv.Group == v1alpha1.GroupVersion.Group {
		return kwokScheme.Recognizes(gv.WithKind(tm.Kind))
	}
	return true // e.g. a StorageClass, or a KwokConfiguration (config.kwok.x-k8s.io)
}
