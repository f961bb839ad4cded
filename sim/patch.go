package sim

import (
	"fmt"
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
		return strategicpatch.StrategicMergePatch(original, data, typed)
	default:
		return nil, fmt.Errorf("unsupported patch type %q", pt)
	}
}

// metaTime truncates to whole seconds: kube-apiserver stores metav1.Time as RFC 3339 text,
// so watchers never see sub-second precision.
func metaTime(t time.Time) metav1.Time {
	return metav1.NewTime(t.Truncate(time.Second))
}

func secondsDuration(s int64) time.Duration { return time.Duration(s) * time.Second }
