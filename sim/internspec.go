package sim

import (
	"reflect"
	"unique"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// maxSpecSets bounds podSpecs' table, as maxLabelSets bounds labelSets'.
const maxSpecSets = 1 << 16

// podSpecs lets the stored pods of one controller share the parts of their spec that are
// equal, as labelSets lets them share their labels: the containers, tolerations, volumes,
// affinity and the other slices, maps and pointers a pod's template gives it, its owner
// references, and the defaulted strings. Pods of one ReplicaSet are all made from one
// template, so at 100,000 pods this is most of a pod's spec: about 2 KB each of what would
// otherwise be held once per pod (every write decodes a pod anew, from JSON or a copy).
//
// A field is shared only when it is exactly equal (reflect.DeepEqual, not semantic equality:
// a quantity written "1" must not come back as "1000m"), and the first pod stored for a
// controller, or the first after its template changed, sets what the others share. Safe for
// the reason labelSets is: stored objects are immutable (see sharedTracker).
type podSpecs struct {
	byOwner map[types.UID]*sharedSpec
}

// sharedSpec holds the shared values; slices, maps and pointers point at one pod's memory.
type sharedSpec struct {
	owners                        []metav1.OwnerReference
	containers, initContainers    []corev1.Container
	volumes                       []corev1.Volume
	tolerations                   []corev1.Toleration
	nodeSelector                  map[string]string
	affinity                      *corev1.Affinity
	securityContext               *corev1.PodSecurityContext
	topologySpread                []corev1.TopologySpreadConstraint
	terminationGracePeriodSeconds *int64
	priority                      *int32
	preemptionPolicy              *corev1.PreemptionPolicy
	enableServiceLinks            *bool
	resourceClaims                []corev1.PodResourceClaim
	schedulingGates               []corev1.PodSchedulingGate
	readinessGates                []corev1.PodReadinessGate
	imagePullSecrets              []corev1.LocalObjectReference
	overhead                      corev1.ResourceList
	resources                     *corev1.ResourceRequirements
}

// share points the pod about to be stored at its controller's shared values where they are
// equal, and makes its values the shared ones where they are not.
func (t *podSpecs) share(p *corev1.Pod) {
	s := &p.Spec
	s.RestartPolicy = corev1.RestartPolicy(internString(string(s.RestartPolicy)))
	s.DNSPolicy = corev1.DNSPolicy(internString(string(s.DNSPolicy)))
	s.SchedulerName = internString(s.SchedulerName)
	s.ServiceAccountName = internString(s.ServiceAccountName)
	s.PriorityClassName = internString(s.PriorityClassName)
	p.GenerateName = internString(p.GenerateName)
	owner := metav1.GetControllerOfNoCopy(p)
	if owner == nil {
		return
	}
	if t.byOwner == nil || len(t.byOwner) >= maxSpecSets {
		t.byOwner = map[types.UID]*sharedSpec{}
	}
	c := t.byOwner[owner.UID]
	if c == nil {
		c = &sharedSpec{}
		t.byOwner[owner.UID] = c
	}
	shareField(&c.owners, &p.OwnerReferences)
	shareField(&c.containers, &s.Containers)
	shareField(&c.initContainers, &s.InitContainers)
	shareField(&c.volumes, &s.Volumes)
	shareField(&c.tolerations, &s.Tolerations)
	shareField(&c.nodeSelector, &s.NodeSelector)
	shareField(&c.affinity, &s.Affinity)
	shareField(&c.securityContext, &s.SecurityContext)
	shareField(&c.topologySpread, &s.TopologySpreadConstraints)
	shareField(&c.terminationGracePeriodSeconds, &s.TerminationGracePeriodSeconds)
	shareField(&c.priority, &s.Priority)
	shareField(&c.preemptionPolicy, &s.PreemptionPolicy)
	shareField(&c.enableServiceLinks, &s.EnableServiceLinks)
	shareField(&c.resourceClaims, &s.ResourceClaims)
	shareField(&c.schedulingGates, &s.SchedulingGates)
	shareField(&c.readinessGates, &s.ReadinessGates)
	shareField(&c.imagePullSecrets, &s.ImagePullSecrets)
	shareField(&c.overhead, &s.Overhead)
	shareField(&c.resources, &s.Resources)
}

// shareField makes *field the shared value when they are exactly equal, and the shared value
// *field when they are not (a nil or empty value is left as it is, and shares nothing).
func shareField[T any](shared, field *T) {
	v := reflect.ValueOf(*field)
	if v.IsNil() || (v.Kind() != reflect.Pointer && v.Len() == 0) {
		return
	}
	if reflect.DeepEqual(*shared, *field) {
		*field = *shared
		return
	}
	*shared = *field
}

// internString returns the one copy of s shared by every stored object.
func internString(s string) string {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}
