package stages

import (
	"encoding/json"
	"fmt"
)

// Object converts v (a typed object such as *corev1.Pod, or anything JSON
// encodes) into the form Match, Delay and Steps read: encoding/json's decoding
// with float64 numbers. KWOK does the same before evaluating jq, so a typed
// object's zero-valued fields without omitempty (creationTimestamp: null,
// status: {}) are visible to selectors and templates just as in KWOK. A map
// is converted too: unstructured objects carry int64 numbers, which jq does
// not take.
func Object(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("object is not a JSON object: %w", err)
	}
	return m, nil
}
