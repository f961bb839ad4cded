package devices

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

// Annotation is the node annotation that describes a node's devices.
const Annotation = "kwoksim.io/devices"

// Defaults of a device set.
const (
	DefaultDriver = "gpu.kwoksim.io"
	DefaultName   = "gpu"
)

// MaxDevicesPerNode bounds the devices one node's annotation describes: far above any real
// node (a large GPU server has 8 to 16 cards, a NIC a few hundred virtual functions), low
// enough that a typo such as count: 80000 fails at load time instead of filling memory.
const MaxDevicesPerNode = 1024

// Set is one device set of the annotation: Count identical devices named Name-0 …
// Name-(Count-1), published by Driver.
type Set struct {
	Driver     string
	Name       string
	Count      int
	Attributes map[resourcev1.QualifiedName]resourcev1.DeviceAttribute
	Capacity   map[resourcev1.QualifiedName]resourcev1.DeviceCapacity
	Shared     bool
}

// Error is a problem with the annotation's value; Path locates it inside the value, as
// "[1].capacity.memory" ("" for the value as a whole).
type Error struct {
	Path, Msg string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// fields are the keys of a device set, in the order they are checked.
var fields = []string{"driver", "name", "count", "attributes", "capacity", "shared"}

// Parse reads the annotation's value. An empty value, or an empty list, means no devices.
// The sets are checked as the apiserver would check the ResourceSlices made from them
// (see check), so that a value Parse accepts always publishes.
func Parse(value string) ([]Set, error) {
	if strings.TrimSpace(value) == "" {
		return nil, nil
	}
	j, err := yaml.YAMLToJSONStrict([]byte(value))
	if err != nil {
		return nil, &Error{Msg: "expected a YAML or JSON list of device sets: " + strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")}
	}
	j = bytes.TrimSpace(j)
	if bytes.Equal(j, []byte("null")) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(j, &items); err != nil {
		return nil, &Error{Msg: "expected a list of device sets (- count: 8 …), found " + jsonType(j)}
	}
	sets := make([]Set, 0, len(items))
	total := 0
	seen := map[[2]string]int{} // driver and name → index of the set
	for i, item := range items {
		at := fmt.Sprintf("[%d]", i)
		s, err := parseSet(at, item)
		if err != nil {
			return nil, err
		}
		if total += s.Count; total > MaxDevicesPerNode {
			return nil, &Error{Path: at + ".count", Msg: fmt.Sprintf("the node's device sets add up to more than %d devices", MaxDevicesPerNode)}
		}
		k := [2]string{s.Driver, s.Name}
		if prev, dup := seen[k]; dup {
			return nil, &Error{Path: at + ".name", Msg: fmt.Sprintf("devices %q of driver %s are already described by [%d]; give each set its own name", s.Name, s.Driver, prev)}
		}
		seen[k] = i
		if err := check(at, s); err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	return sets, nil
}

// parseSet reads one device set, the element at of the list.
func parseSet(at string, item json.RawMessage) (Set, error) {
	s := Set{Driver: DefaultDriver, Name: DefaultName, Count: 1}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(item, &m); err != nil {
		return s, &Error{Path: at, Msg: "expected a device set (a mapping with count, attributes, …), found " + jsonType(item)}
	}
	var unknown []string
	for k := range m {
		if !slices.Contains(fields, k) {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return s, &Error{Path: at, Msg: fmt.Sprintf("unknown field %s; expected %s", strings.Join(unknown, ", "), strings.Join(fields, ", "))}
	}
	for _, f := range fields {
		raw, ok := m[f]
		if !ok || bytes.Equal(raw, []byte("null")) {
			continue
		}
		path := at + "." + f
		var err error
		switch f {
		case "driver":
			err = str(path, raw, &s.Driver)
		case "name":
			err = str(path, raw, &s.Name)
		case "count":
			err = count(path, raw, &s.Count)
		case "attributes":
			s.Attributes, err = attributes(path, raw)
		case "capacity":
			s.Capacity, err = capacity(path, raw)
		case "shared":
			if json.Unmarshal(raw, &s.Shared) != nil {
				err = &Error{Path: path, Msg: "expected true or false, found " + jsonType(raw)}
			}
		}
		if err != nil {
			return s, err
		}
	}
	return s, nil
}

func str(path string, raw json.RawMessage, out *string) error {
	if json.Unmarshal(raw, out) != nil || *out == "" {
		return &Error{Path: path, Msg: "expected a non-empty string, found " + jsonType(raw)}
	}
	return nil
}

func count(path string, raw json.RawMessage, out *int) error {
	n, err := strconv.Atoi(string(raw))
	if err != nil || n < 1 || n > MaxDevicesPerNode {
		return &Error{Path: path, Msg: fmt.Sprintf("expected a whole number of devices from 1 to %d, found %s", MaxDevicesPerNode, shown(raw))}
	}
	*out = n
	return nil
}

// attributes reads a mapping of attribute names to strings, integers and booleans.
func attributes(path string, raw json.RawMessage) (map[resourcev1.QualifiedName]resourcev1.DeviceAttribute, error) {
	m, err := mapping(path, raw)
	if err != nil {
		return nil, err
	}
	out := make(map[resourcev1.QualifiedName]resourcev1.DeviceAttribute, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) { // the first problem in name order
		v := m[k]
		var a resourcev1.DeviceAttribute
		var (
			s string
			b bool
		)
		switch {
		case json.Unmarshal(v, &s) == nil:
			a.StringValue = &s
		case json.Unmarshal(v, &b) == nil:
			a.BoolValue = &b
		default:
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return nil, &Error{Path: path + "." + k, Msg: "expected a string, an integer or a boolean, found " + shown(v)}
			}
			a.IntValue = &n
		}
		out[resourcev1.QualifiedName(k)] = a
	}
	return out, nil
}

// capacity reads a mapping of capacity names to quantities, as strings ("80Gi") or numbers.
func capacity(path string, raw json.RawMessage) (map[resourcev1.QualifiedName]resourcev1.DeviceCapacity, error) {
	m, err := mapping(path, raw)
	if err != nil {
		return nil, err
	}
	out := make(map[resourcev1.QualifiedName]resourcev1.DeviceCapacity, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) { // the first problem in name order
		v := m[k]
		text := string(v)
		var s string
		if json.Unmarshal(v, &s) == nil {
			text = s
		}
		q, err := resource.ParseQuantity(text)
		if err != nil || q.Sign() < 0 {
			return nil, &Error{Path: path + "." + k, Msg: `expected a non-negative quantity such as "80Gi" or 1000, found ` + shown(v)}
		}
		out[resourcev1.QualifiedName(k)] = resourcev1.DeviceCapacity{Value: q}
	}
	return out, nil
}

func mapping(path string, raw json.RawMessage) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &Error{Path: path, Msg: "expected a mapping of names to values, found " + jsonType(raw)}
	}
	return m, nil
}

// shown is a JSON value for a message: scalars as written, anything else by its type.
func shown(raw json.RawMessage) string {
	switch t := jsonType(raw); t {
	case "a mapping", "a list":
		return t
	}
	return string(raw)
}

// jsonType names the type of a JSON value for messages.
func jsonType(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "a mapping"
	case '[':
		return "a list"
	case '"':
		return "a string " + string(raw)
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "the number " + string(raw)
}
