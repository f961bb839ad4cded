package devices

import (
	"regexp"
	"strconv"

	resourcev1 "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubernetes/pkg/apis/resource"
	resourcev1conv "k8s.io/kubernetes/pkg/apis/resource/v1"
	"k8s.io/kubernetes/pkg/apis/resource/validation"
)

// check runs the apiserver's own validation of ResourceSlices on the set, so that a value
// Parse accepts is one the simulated apiserver stores: names (driver, device, attribute and
// capacity), attribute values, capacities and the per-device limits are the API's rules,
// with the API's messages. The devices of a set differ only in their names, so one device,
// the one with the longest name, stands for all of them.
func check(at string, s Set) error {
	slice := &resourcev1.ResourceSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "check"},
		Spec: resourcev1.ResourceSliceSpec{
			Driver: s.Driver, NodeName: new("node"),
			Pool:    resourcev1.ResourcePool{Name: "node", ResourceSliceCount: 1},
			Devices: []resourcev1.Device{s.device(s.Count - 1)},
		},
	}
	var internal resource.ResourceSlice
	if err := resourcev1conv.Convert_v1_ResourceSlice_To_resource_ResourceSlice(slice, &internal, nil); err != nil {
		return &Error{Path: at, Msg: err.Error()}
	}
	errs := validation.ValidateResourceSlice(&internal)
	if len(errs) == 0 {
		return nil
	}
	return &Error{Path: annotationPath(at, errs[0].Field), Msg: errs[0].ErrorBody()}
}

var (
	devicePath = regexp.MustCompile(`^spec\.devices\[0\]`)
	// mapKey turns the API's attributes[model] into the annotation's attributes.model.
	mapKey = regexp.MustCompile(`\.(attributes|capacity)\[([^\]]*)\]`)
)

// annotationPath maps a field path of the checked slice onto the annotation's set at.
func annotationPath(at, path string) string {
	switch {
	case path == "spec.driver":
		return at + ".driver"
	case devicePath.MatchString(path):
		return mapKey.ReplaceAllString(devicePath.ReplaceAllString(path, at), ".$1.$2")
	}
	return at
}

// deviceName is the name of a set's i-th device.
func (s Set) deviceName(i int) string { return s.Name + "-" + strconv.Itoa(i) }

// device is the set's i-th device as published.
func (s Set) device(i int) resourcev1.Device {
	d := resourcev1.Device{Name: s.deviceName(i)}
	if len(s.Attributes) > 0 {
		d.Attributes = make(map[resourcev1.QualifiedName]resourcev1.DeviceAttribute, len(s.Attributes))
		for k, v := range s.Attributes {
			d.Attributes[k] = *v.DeepCopy()
		}
	}
	if len(s.Capacity) > 0 {
		d.Capacity = make(map[resourcev1.QualifiedName]resourcev1.DeviceCapacity, len(s.Capacity))
		for k, v := range s.Capacity {
			d.Capacity[k] = *v.DeepCopy()
		}
	}
	if s.Shared {
		d.AllowMultipleAllocations = new(true)
	}
	return d
}
