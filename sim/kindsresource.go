package sim

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	resourcev1beta1 "k8s.io/api/resource/v1beta1"
	resourcev1beta2 "k8s.io/api/resource/v1beta2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/kubernetes/pkg/apis/resource"
	deviceclassregistry "k8s.io/kubernetes/pkg/registry/resource/deviceclass"
	devicetaintruleregistry "k8s.io/kubernetes/pkg/registry/resource/devicetaintrule"
	resourceclaimregistry "k8s.io/kubernetes/pkg/registry/resource/resourceclaim"
	resourceclaimtemplateregistry "k8s.io/kubernetes/pkg/registry/resource/resourceclaimtemplate"
	resourcesliceregistry "k8s.io/kubernetes/pkg/registry/resource/resourceslice"

	_ "k8s.io/kubernetes/pkg/apis/resource/install"
)

// The Dynamic Resource Allocation kinds (resource.k8s.io/v1, GA since v1.34): DeviceClass and
// ResourceSlice are inputs (a ResourceSlice is what a DRA driver publishes for a node's
// devices; kwoksim's own driver publishes them from a node's kwoksim.io/devices annotation,
// workloads/dradriver), ResourceClaimTemplate an input the resource claim controller makes claims from
// (workloads/resourceclaim), ResourceClaim what the scheduler's DynamicResources plugin
// allocates and reserves, and DeviceTaintRule, which the scheduler's ResourceSlice tracker
// reads. v1beta1 and v1beta2 manifests, which Helm charts written for v1.32–v1.33 still carry,
// are converted as kube-apiserver converts them.
var resourceVersions = []schema.GroupVersion{resourcev1beta1.SchemeGroupVersion, resourcev1beta2.SchemeGroupVersion}

func resourceKinds() []*Kind {
	claimStrategy := resourceclaimregistry.NewStrategy(adminAccessNamespaces{}, allowBinding{})
	return []*Kind{
		{
			GVK: resourcev1.SchemeGroupVersion.WithKind("DeviceClass"), GVR: resourcev1.SchemeGroupVersion.WithResource("deviceclasses"),
			newInternal: func() runtime.Object { return &resource.DeviceClass{} },
			strategy:    deviceclassregistry.Strategy, alsoFrom: resourceVersions,
		},
		{
			GVK: resourcev1.SchemeGroupVersion.WithKind("ResourceSlice"), GVR: resourcev1.SchemeGroupVersion.WithResource("resourceslices"),
			newInternal: func() runtime.Object { return &resource.ResourceSlice{} },
			strategy:    resourcesliceregistry.Strategy, alsoFrom: resourceVersions,
			beginCreate: refuseBindingConditions,
			beginUpdate: func(a *API, k *Kind, obj, _ runtime.Object) error { return refuseBindingConditions(a, k, obj) },
		},
		{
			GVK: resourcev1.SchemeGroupVersion.WithKind("ResourceClaimTemplate"), GVR: resourcev1.SchemeGroupVersion.WithResource("resourceclaimtemplates"), Namespaced: true,
			newInternal: func() runtime.Object { return &resource.ResourceClaimTemplate{} },
			strategy:    resourceclaimtemplateregistry.NewStrategy(adminAccessNamespaces{}), alsoFrom: resourceVersions,
		},
		{
			GVK: resourcev1.SchemeGroupVersion.WithKind("ResourceClaim"), GVR: resourcev1.SchemeGroupVersion.WithResource("resourceclaims"), Namespaced: true,
			newInternal: func() runtime.Object { return &resource.ResourceClaim{} },
			strategy:    claimStrategy, status: resourceclaimregistry.NewStatusStrategy(claimStrategy), alsoFrom: resourceVersions,
		},
		{
			GVK: resourcev1.SchemeGroupVersion.WithKind("DeviceTaintRule"), GVR: resourcev1.SchemeGroupVersion.WithResource("devicetaintrules"),
			newInternal: func() runtime.Object { return &resource.DeviceTaintRule{} },
			strategy:    devicetaintruleregistry.Strategy, status: devicetaintruleregistry.StatusStrategy,
		},
	}
}

// adminAccessNamespaces is the namespace client the claim strategies read a namespace through,
// and only for a claim that asks for admin access (resourceutils.AuthorizedForAdmin checks the
// namespace's resource.kubernetes.io/admin-access label). Admin access is a cluster
// administrator's way to reach devices in use, which has no bearing on where pods land; a
// simulated apiserver has no namespace client to give a package-level strategy, so such a claim
// is refused with this error rather than accepted unchecked.
type adminAccessNamespaces struct {
	corev1client.NamespaceInterface
}

func (adminAccessNamespaces) Get(_ context.Context, name string, _ metav1.GetOptions) (*corev1.Namespace, error) {
	return nil, apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, name,
		fmt.Errorf("kwoksim does not simulate DRA admin access (adminAccess: true)"))
}

// allowBinding is the authorizer the claim status strategy asks whether the writer may set
// status.allocation and status.reservedFor (resourceutils.AuthorizedForBinding, the
// DRAResourceClaimGranularStatusAuthorization gate): in a real cluster the scheduler and the
// resource claim controller hold that permission through their RBAC roles, and they are the
// only writers of claim status here.
type allowBinding struct{}

func (allowBinding) Authorize(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
	return authorizer.DecisionAllow, "", nil
}

// refuseBindingConditions refuses a ResourceSlice with a device that has binding conditions
// (DRADeviceBindingConditions, beta, on in v1.37): the DynamicResources plugin's PreBind then
// polls every 5 s of wall time, for up to its bindingTimeout (600 s), until a driver reports
// the conditions on the claim. kwoksim has no driver to report them and waits on no wall
// clock, so such a device is refused, saying what a real cluster would do, rather than
// allocated as if it had none.
func refuseBindingConditions(_ *API, k *Kind, obj runtime.Object) error {
	s := obj.(*resource.ResourceSlice)
	for i, d := range s.Spec.Devices {
		if len(d.BindingConditions) > 0 || len(d.BindingFailureConditions) > 0 {
			return apierrors.NewInvalid(k.GVK.GroupKind(), s.Name, field.ErrorList{field.Forbidden(
				field.NewPath("spec", "devices").Index(i).Child("bindingConditions"),
				"kwoksim does not model device binding conditions: a real scheduler would wait in PreBind (up to 600 s) for the device's driver to report them on the claim")})
		}
	}
	return nil
}
