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
// not take. The decoding is decodeJSON's, which is encoding/json's, made
// faster for the plain ASCII that objects mostly hold: the simulator converts
// every Pod and Node it writes.
func Object(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("object is not a JSON object: %w", err)
	}
	m, ok := d.(map[string]any)
	if !ok && d != nil {
		return nil, fmt.Errorf("object is not a JSON object: %s", excerpt(data))
	}
	return m, nil
}
