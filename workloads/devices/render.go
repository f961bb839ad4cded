package devices

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"

	resourcev1 "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/kubernetes/pkg/apis/resource"
)

// MaxDevicesPerSlice is the most devices one ResourceSlice holds (v1 validation,
// resource.ResourceSliceMaxDevices); more devices of one driver on a node are split into
// several slices of the node's pool.
const MaxDevicesPerSlice = resource.ResourceSliceMaxDevices

// Node is the node whose devices are rendered: its name and UID, for the pool, spec.nodeName
// and the ownerReference.
type Node struct {
	Name string
	UID  types.UID
}

// Slices renders a node's device sets as the ResourceSlices its drivers publish: for each
// driver, in name order, one pool named after the node holding the driver's devices in the
// order of the sets, cut into slices of at most MaxDevicesPerSlice devices.
func Slices(n Node, sets []Set) []*resourcev1.ResourceSlice {
	byDriver := map[string][]resourcev1.Device{}
	for _, s := range sets {
		for i := range s.Count {
			byDriver[s.Driver] = append(byDriver[s.Driver], s.device(i))
		}
	}
	var out []*resourcev1.ResourceSlice
	for _, driver := range slices.Sorted(maps.Keys(byDriver)) {
		chunks := slices.Collect(slices.Chunk(byDriver[driver], MaxDevicesPerSlice))
		for i, devs := range chunks {
			out = append(out, &resourcev1.ResourceSlice{
				TypeMeta: metav1.TypeMeta{APIVersion: resourcev1.SchemeGroupVersion.String(), Kind: "ResourceSlice"},
				ObjectMeta: metav1.ObjectMeta{
					Name: SliceName(driver, n.Name, i),
					// As the kubelet plugin's publisher sets it (resourceslice.Controller with
					// the Node as its owner): the garbage collector deletes the slices with it.
					OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID, Controller: new(true)}},
				},
				Spec: resourcev1.ResourceSliceSpec{
					Driver:   driver,
					NodeName: new(n.Name),
					Pool:     resourcev1.ResourcePool{Name: n.Name, ResourceSliceCount: int64(len(chunks))},
					Devices:  devs,
				},
			})
		}
	}
	return out
}

// SliceName is the name of the index-th slice of a driver's pool on a node:
// "<index, 5 hex digits>-<driver>-<node>", upstream's generateName prefix without the
// trailing dash. A name longer than an object name may be is cut and ends in a hash of the
// whole, so that two long node names that share a prefix still get their own slices.
func SliceName(driver, node string, index int) string {
	name := fmt.Sprintf("%05x-%s-%s", index, driver, node)
	if len(name) <= validation.DNS1123SubdomainMaxLength {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	suffix := fmt.Sprintf("-%08x", h.Sum32())
	// A DNS subdomain's labels end in an alphanumeric character.
	head := strings.TrimRight(name[:validation.DNS1123SubdomainMaxLength-len(suffix)], ".-")
	return head + suffix
}
