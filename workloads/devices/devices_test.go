package devices

import (
	"strings"
	"testing"

	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestParseTheDocumentedExample(t *testing.T) {
	sets, err := Parse(`
- driver: gpu.kwoksim.io
  count: 8
  name: gpu
  attributes: {model: A100-80GB, memoryGiB: 80, nvlink: true}
  capacity: {memory: 80Gi, gpuMilli: 1000}
  shared: true
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 {
		t.Fatalf("got %d sets, want 1", len(sets))
	}
	s := sets[0]
	if s.Driver != "gpu.kwoksim.io" || s.Name != "gpu" || s.Count != 8 || !s.Shared {
		t.Errorf("set %+v", s)
	}
	a := s.Attributes
	if *a["model"].StringValue != "A100-80GB" || *a["memoryGiB"].IntValue != 80 || !*a["nvlink"].BoolValue {
		t.Errorf("attributes %v", a)
	}
	if c := s.Capacity["memory"].Value; c.Cmp(resource.MustParse("80Gi")) != 0 {
		t.Errorf("memory capacity %v, want 80Gi", c.String())
	}
	if c := s.Capacity["gpuMilli"].Value; c.Value() != 1000 {
		t.Errorf("gpuMilli capacity %v, want 1000", c.String())
	}
}

func TestParseDefaultsAndEmpty(t *testing.T) {
	sets, err := Parse(`[{}]`) // JSON works too
	if err != nil {
		t.Fatal(err)
	}
	if s := sets[0]; s.Driver != DefaultDriver || s.Name != DefaultName || s.Count != 1 || s.Shared {
		t.Errorf("defaults %+v", s)
	}
	for _, v := range []string{"", "  \n", "[]", "null"} {
		if sets, err := Parse(v); err != nil || len(sets) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want no devices", v, sets, err)
		}
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"not a list", `count: 8`, "expected a list of device sets (- count: 8 …), found a mapping"},
		{"not YAML", "- [", "expected a YAML or JSON list of device sets: "},
		{"a set is a mapping", `[8]`, "[0]: expected a device set (a mapping with count, attributes, …), found the number 8"},
		{"unknown field", `[{cout: 8}]`, `[0]: unknown field "cout"; expected driver, name, count, attributes, capacity, shared`},
		{"count zero", `[{count: 0}]`, "[0].count: expected a whole number of devices from 1 to 1024, found 0"},
		{"count too large", `[{count: 2000}]`, "[0].count: expected a whole number of devices from 1 to 1024, found 2000"},
		{"count a fraction", `[{count: 1.5}]`, "[0].count: expected a whole number of devices from 1 to 1024, found 1.5"},
		{"node total", `[{count: 1000}, {name: nic, count: 25}]`, "[1].count: the node's device sets add up to more than 1024 devices"},
		{"same name twice", `[{count: 2}, {count: 3}]`, `[1].name: devices "gpu" of driver gpu.kwoksim.io are already described by [0]`},
		{"empty driver", `[{driver: ""}]`, "[0].driver: expected a non-empty string, found a string \"\""},
		{"float attribute", `[{attributes: {tflops: 19.5}}]`, "[0].attributes.tflops: expected a string, an integer or a boolean, found 19.5"},
		{"list attribute", `[{attributes: {a: [1]}}]`, "[0].attributes.a: expected a string, an integer or a boolean, found a list"},
		{"bad quantity", `[{capacity: {memory: lots}}]`, `[0].capacity.memory: expected a non-negative quantity such as "80Gi" or 1000, found "lots"`},
		{"negative quantity", `[{capacity: {memory: -1}}]`, `[0].capacity.memory: expected a non-negative quantity`},
		{"shared not a bool", `[{shared: "yes"}]`, `[0].shared: expected true or false, found a string "yes"`},
		// The apiserver's own rules, with its messages.
		{"attribute name", `[{attributes: {gpu-model: x}}]`, "[0].attributes: Invalid value: \"gpu-model\": a valid C identifier must"},
		{"capacity name", `[{capacity: {gpu.milli: 1}}]`, "[0].capacity: Invalid value: \"gpu.milli\""},
		{"driver name", `[{driver: GPU_Vendor}]`, "[0].driver: Invalid value: \"GPU_Vendor\""},
		{"device name", `[{name: Big_GPU}]`, "[0].name: Invalid value: \"Big_GPU-0\""},
		{"long string", `[{attributes: {model: ` + strings.Repeat("x", 65) + `}}]`, "[0].attributes.model.string: Too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.value)
			if err == nil {
				t.Fatalf("Parse(%q) accepted it", tc.value)
			}
			if _, ok := err.(*Error); !ok {
				t.Errorf("error %T, want *Error", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error\n%s\nwant it to start with\n%s", err, tc.want)
			}
		})
	}
}

func TestSlicesOnePoolPerDriver(t *testing.T) {
	sets, err := Parse(`
- {count: 2, attributes: {model: T4}, capacity: {gpuMilli: 1000}, shared: true}
- {driver: nic.example.com, name: vf, count: 3}
- {name: mig, count: 1}
`)
	if err != nil {
		t.Fatal(err)
	}
	got := Slices(Node{Name: "n1", UID: "u1"}, sets)
	if len(got) != 2 {
		t.Fatalf("got %d slices, want 2 (one per driver)", len(got))
	}
	gpu, nic := got[0], got[1]
	if gpu.Name != "00000-gpu.kwoksim.io-n1" || nic.Name != "00000-nic.example.com-n1" {
		t.Errorf("names %q, %q", gpu.Name, nic.Name)
	}
	if gpu.Spec.Driver != "gpu.kwoksim.io" || *gpu.Spec.NodeName != "n1" || gpu.Spec.Pool != (resourcev1.ResourcePool{Name: "n1", ResourceSliceCount: 1}) {
		t.Errorf("gpu slice spec %+v", gpu.Spec)
	}
	var names []string
	for _, d := range gpu.Spec.Devices {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, ","); got != "gpu-0,gpu-1,mig-0" {
		t.Errorf("gpu devices %s", got)
	}
	if d := gpu.Spec.Devices[1]; !*d.AllowMultipleAllocations || *d.Attributes["model"].StringValue != "T4" {
		t.Errorf("device %+v", d)
	}
	if d := gpu.Spec.Devices[2]; d.AllowMultipleAllocations != nil || d.Attributes != nil {
		t.Errorf("mig-0 %+v shares the gpu set's fields", d)
	}
	ref := gpu.OwnerReferences[0]
	if ref.Kind != "Node" || ref.Name != "n1" || ref.UID != "u1" || !*ref.Controller {
		t.Errorf("owner %+v", ref)
	}
	// Devices are copies: changing one does not change another.
	*gpu.Spec.Devices[0].Attributes["model"].StringValue = "changed"
	if *gpu.Spec.Devices[1].Attributes["model"].StringValue != "T4" || *sets[0].Attributes["model"].StringValue != "T4" {
		t.Error("devices share their attribute values")
	}
}

func TestSlicesSplitAt128(t *testing.T) {
	sets, err := Parse(`[{count: 300}]`)
	if err != nil {
		t.Fatal(err)
	}
	got := Slices(Node{Name: "big"}, sets)
	if len(got) != 3 {
		t.Fatalf("got %d slices, want 3", len(got))
	}
	for i, want := range []int{128, 128, 44} {
		s := got[i]
		if len(s.Spec.Devices) != want || s.Spec.Pool.ResourceSliceCount != 3 || s.Spec.Pool.Name != "big" {
			t.Errorf("slice %d: %d devices, pool %+v", i, len(s.Spec.Devices), s.Spec.Pool)
		}
	}
	if got[2].Name != "00002-gpu.kwoksim.io-big" || got[2].Spec.Devices[0].Name != "gpu-256" {
		t.Errorf("third slice %s starts at %s", got[2].Name, got[2].Spec.Devices[0].Name)
	}
}

func TestSliceNameOfLongNodes(t *testing.T) {
	a, b := strings.Repeat("a", 250)+"x", strings.Repeat("a", 250)+"y"
	na, nb := SliceName(DefaultDriver, a, 0), SliceName(DefaultDriver, b, 0)
	if na == nb {
		t.Errorf("two nodes share the slice name %s", na)
	}
	for _, n := range []string{na, nb, SliceName("d.example.com", strings.Repeat("ab.", 83)+"c", 0)} {
		if errs := validation.IsDNS1123Subdomain(n); len(errs) > 0 {
			t.Errorf("%s: %v", n, errs)
		}
	}
}
