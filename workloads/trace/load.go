package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kwoksim/kwoksim/workloads/load"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// loadKinds are the kinds a load event accepts: the workloads whose selector names their
// pods (load.LoadKinds).
var loadKinds = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range load.LoadKinds {
		m[k] = true
	}
	return m
}()

// decodeLoad reads a load event's body: {kind, namespace, name, cpu, memory}, at least one
// of cpu and memory, each a non-negative quantity.
func decodeLoad(ev *Event, body json.RawMessage) error {
	var l struct {
		ObjectRef
		CPU    json.RawMessage `json:"cpu"`
		Memory json.RawMessage `json:"memory"`
	}
	if err := strictUnmarshal(body, &l); err != nil {
		return fmt.Errorf("load: %v", err)
	}
	var err error
	if ev.Target, err = checkRef(l.ObjectRef, "load", loadKinds); err != nil {
		return err
	}
	if ev.CPU, err = loadQuantity("cpu", l.CPU, `"1500m" or "2"`); err != nil {
		return err
	}
	if ev.Memory, err = loadQuantity("memory", l.Memory, `"512Mi" or "2Gi"`); err != nil {
		return err
	}
	if ev.CPU == nil && ev.Memory == nil {
		return errors.New("load: expected cpu, memory or both: the workload's total demand")
	}
	return nil
}

// loadQuantity reads one demand: a quantity as a string or a number; absent (or null) is nil.
func loadQuantity(field string, raw json.RawMessage, example string) (*resource.Quantity, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, fmt.Errorf("load: %s: %v", field, err)
		}
	} else if raw[0] < '0' || raw[0] > '9' {
		if raw[0] != '-' {
			return nil, fmt.Errorf("load: %s: expected a quantity such as %s, found %s", field, example, manifest.JSONType(raw))
		}
	}
	q, err := resource.ParseQuantity(text)
	if err != nil {
		return nil, fmt.Errorf("load: %s: expected a quantity such as %s, got %q", field, example, text)
	}
	if q.Sign() < 0 {
		return nil, fmt.Errorf("load: %s: expected a non-negative quantity, got %q", field, text)
	}
	return &q, nil
}
