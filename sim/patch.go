package sim

import (
	"fmt"
	"reflect"
	"sync"
	"time"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// applyPatch applies a patch of the given type to an object's JSON. Strategic merge uses the
// typed object's patch metadata (list merge keys such as conditions by type).
func applyPatch(original []byte, pt types.PatchType, data []byte, typed runtime.Object) ([]byte, error) {
	switch pt {
	case types.JSONPatchType:
		p, err := jsonpatch.DecodePatch(data)
		if err != nil {
			return nil, fmt.Errorf("invalid JSON patch: %w", err)
		}
		return p.Apply(original)
	case types.MergePatchType:
		return jsonpatch.MergePatch(original, data)
	case types.StrategicMergePatchType, types.ApplyPatchType:
		// Server-side apply is approximated by a strategic merge of the applied configuration:
		// without field managers there is no ownership to compute, and the merge keys agree.
		schema, err := patchSchema(typed)
		if err != nil {
			return nil, err
		}
		return strategicpatch.StrategicMergePatchUsingLookupPatchMeta(original, data, schema)
	default:
		return nil, fmt.Errorf("unsupported patch type %q", pt)
	}
}

// patchSchemas caches the strategic-merge schema per Go type: building one walks the type by
// reflection, and the stage engine patches a status on every transition.
var patchSchemas sync.Map // reflect.Type → strategicpatch.LookupPatchMeta

func patchSchema(typed runtime.Object) (strategicpatch.LookupPatchMeta, error) {
	t := reflect.TypeOf(typed)
	if v, ok := patchSchemas.Load(t); ok {
		return v.(strategicpatch.LookupPatchMeta), nil
	}
	schema, err := strategicpatch.NewPatchMetaFromStruct(typed)
	if err != nil {
		return nil, err
	}
	patchSchemas.Store(t, schema)
	return schema, nil
}

// metaTime truncates to whole seconds: kube-apiserver stores metav1.Time as RFC 3339 text,
// so watchers never see sub-second precision.
func metaTime(t time.Time) metav1.Time {
	return metav1.NewTime(t.Truncate(time.Second))
}

func secondsDuration(s int64) time.Duration { return time.Duration(s) * time.Second }
