package resourceclaim

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/dynamic-resource-allocation/resourceclaim"
	"k8s.io/utils/ptr"
)

// ReasonFailedResourceClaimCreation is the reason of the Warning event syncPod records on a
// pod whose claim it could not create.
const ReasonFailedResourceClaimCreation = "FailedResourceClaimCreation"

// syncPod is upstream's syncPod: the pod's claims are created from their templates (handleClaim,
// one after another), the new ones recorded in its status, and, for a pod bound to a node
// without the scheduler, its allocated claims reserved for it.
func (c *Controller) syncPod(ns, name string, done func(error)) {
	pod, err := c.pod(ns, name)
	if apierrors.IsNotFound(err) {
		done(nil) // gone
		return
	} else if err != nil {
		done(err)
		return
	}
	if pod.DeletionTimestamp != nil || isPodDone(pod) {
		done(nil) // being deleted; or done, see podNeedsWork
		return
	}
	if pod.Spec.SchedulingGroup != nil && pod.Spec.SchedulingGroup.PodGroupName != nil {
		// getPodGroup with GenericWorkload off; kwoksim serves no PodGroup at all.
		done(nonRetryableError{fmt.Errorf("Pod is a member of PodGroup %s, which kwoksim does not simulate", *pod.Spec.SchedulingGroup.PodGroupName)})
		return
	}
	newPodClaims := map[string]string{}
	var handle func(i int)
	handle = func(i int) {
		if i == len(pod.Spec.ResourceClaims) {
			c.writeClaimStatuses(pod, newPodClaims, func(written *corev1.Pod, err error) {
				if err != nil {
					done(err)
					return
				}
				c.reserveClaims(written, 0, done)
			})
			return
		}
		podClaim := pod.Spec.ResourceClaims[i]
		c.handleClaim(pod, podClaim, newPodClaims, func(err error) {
			if err != nil {
				c.m.Warn("Pod", ns, name, ReasonFailedResourceClaimCreation, fmt.Sprintf("PodResourceClaim %s: %v", podClaim.Name, err))
				done(fmt.Errorf("pod %s/%s, PodResourceClaim %s: %v", ns, name, podClaim.Name, err))
				return
			}
			handle(i + 1)
		})
	}
	handle(0)
}

// handleClaim is upstream's handleClaim for one of the pod's claims: nothing to do for a claim
// named in the spec, or one already created and still owned by the pod; otherwise an orphan
// the controller created before (findPodResourceClaim) is adopted, or a new claim is created
// from the template. The claim's name goes into newPodClaims.
func (c *Controller) handleClaim(pod *corev1.Pod, podClaim corev1.PodResourceClaim, newPodClaims map[string]string, then func(error)) {
	claimName, mustCheckOwner, err := resourceclaim.Name(pod, &podClaim)
	switch {
	case errors.Is(err, resourceclaim.ErrClaimNotFound):
		// Continue below.
	case err != nil:
		then(fmt.Errorf("checking for claim before creating it: %v", err))
		return
	case claimName == nil:
		then(nil) // no claim needed
		return
	case *claimName != "":
		// Recorded in the pod's status: re-created if it was deleted or is not the pod's.
		claim, err := c.claim(pod.Namespace, *claimName)
		if err != nil && !apierrors.IsNotFound(err) {
			then(fmt.Errorf("checking claim existence: %w", err))
			return
		}
		if err == nil && (!mustCheckOwner || resourceclaim.IsForPod(pod, claim, false) == nil) {
			then(nil) // already created
			return
		}
	}
	if podClaim.ResourceClaimTemplateName == nil {
		then(nil)
		return
	}
	if claim := c.findPodResourceClaim(pod, podClaim); claim != nil {
		newPodClaims[podClaim.Name] = claim.Name
		then(nil)
		return
	}
	obj, err := c.m.API().Get(c.templateKind, pod.Namespace, *podClaim.ResourceClaimTemplateName)
	if err != nil {
		then(fmt.Errorf("resource claim template %q: %w", *podClaim.ResourceClaimTemplateName, err))
		return
	}
	template := obj.(*resourcev1.ResourceClaimTemplate)
	claim := newClaim(pod, podClaim, template)
	c.send(func() error {
		created, err := c.m.API().Create(claim)
		if err != nil {
			return fmt.Errorf("create ResourceClaim %s: %w", claim.GenerateName, err)
		}
		newPodClaims[podClaim.Name] = stored[*resourcev1.ResourceClaim](created).Name
		return nil
	}, then)
}

// newClaim is the claim handleClaim creates from a template: owned by the pod (controller),
// annotated with the pod's claim name (resource.kubernetes.io/pod-claim-name), with the
// template's labels, annotations and spec.
func newClaim(pod *corev1.Pod, podClaim corev1.PodResourceClaim, template *resourcev1.ResourceClaimTemplate) *resourcev1.ResourceClaim {
	annotations := maps.Clone(template.Spec.ObjectMeta.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[resourcev1.PodResourceClaimAnnotation] = podClaim.Name
	return &resourcev1.ResourceClaim{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:    pod.Namespace,
			GenerateName: generateName(pod.Name, podClaim.Name),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID, Controller: ptr.To(true),
			}},
			Annotations: annotations,
			Labels:      maps.Clone(template.Spec.ObjectMeta.Labels),
		},
		Spec: *template.Spec.Spec.DeepCopy(),
	}
}

// generateName is handleClaim's "<pod>-<claim>-", cut when longer than 57 characters (room for
// the 5 random characters of a 63-character name) by shortening both names in proportion to
// their lengths, so that neither is lost, as the apiserver's cut at the end would lose the
// claim's name.
func generateName(pod, claim string) string {
	base := pod + "-" + claim + "-"
	const maxBaseLen = 57
	if len(base) > maxBaseLen {
		base = pod[:len(pod)*maxBaseLen/len(base)] + "-" + claim[:len(claim)*maxBaseLen/len(base)]
	}
	return base
}

// findPodResourceClaim is upstream's: a claim controlled by the pod and annotated with this pod
// claim's name, which the controller created before it could record it in the pod's status.
// Of several, the first by name (upstream takes the index's first, in no particular order).
func (c *Controller) findPodResourceClaim(pod *corev1.Pod, podClaim corev1.PodResourceClaim) *resourcev1.ResourceClaim {
	for _, obj := range c.m.OwnedBy(pod.UID, "ResourceClaim") {
		claim := obj.(*resourcev1.ResourceClaim)
		ref := metav1.GetControllerOfNoCopy(claim)
		if ref.APIVersion != "v1" || ref.Kind != "Pod" {
			continue
		}
		if name, ok := claim.Annotations[resourcev1.PodResourceClaimAnnotation]; ok && name == podClaim.Name {
			return claim
		}
	}
	return nil
}

// writeClaimStatuses records the claims created in this sync in pod.status.resourceClaimStatuses,
// merged with those already there, in name order, and hands on the pod as written (or as it
// was, when nothing is new).
//
// Deviation: upstream writes them with a server-side apply of the status (field manager
// ResourceClaimController, Force), which the simulated apiserver does not serve; this is an
// update of the status subresource that leaves the other entries as they are, which is what
// the apply does to the entries this manager owns and the list-map keyed by name.
func (c *Controller) writeClaimStatuses(pod *corev1.Pod, newPodClaims map[string]string, then func(*corev1.Pod, error)) {
	if len(newPodClaims) == 0 {
		then(pod, nil)
		return
	}
	merged := map[string]*string{}
	for _, st := range pod.Status.ResourceClaimStatuses {
		if st.ResourceClaimName != nil {
			merged[st.Name] = st.ResourceClaimName
		}
	}
	for name, claim := range newPodClaims {
		merged[name] = ptr.To(claim)
	}
	var written *corev1.Pod
	c.send(func() error {
		cur, err := c.pod(pod.Namespace, pod.Name)
		if err != nil {
			return fmt.Errorf("update pod %s/%s ResourceClaimStatuses: %v", pod.Namespace, pod.Name, err)
		}
		all := maps.Clone(merged)
		for _, st := range cur.Status.ResourceClaimStatuses {
			if _, ok := all[st.Name]; !ok {
				all[st.Name] = st.ResourceClaimName
			}
		}
		cur.Status.ResourceClaimStatuses = nil
		for _, name := range slices.Sorted(maps.Keys(all)) {
			cur.Status.ResourceClaimStatuses = append(cur.Status.ResourceClaimStatuses, corev1.PodResourceClaimStatus{Name: name, ResourceClaimName: all[name]})
		}
		obj, err := c.m.API().UpdateStatus(cur)
		if err != nil {
			return fmt.Errorf("update pod %s/%s ResourceClaimStatuses: %v", pod.Namespace, pod.Name, err)
		}
		written = stored[*corev1.Pod](obj)
		return nil
	}, func(err error) { then(written, err) })
}

// reserveClaims is the end of syncPod for a pod bound to a node: each of its allocated claims
// not reserved for it yet is reserved for it (reserveFor), as the scheduler would have in
// PreBind. The scheduler handles the reservations of the pods it binds.
//
// Deviation: upstream looks the claims up in the pod as it read it before its own status
// write, so a claim it has just created fails this sync with ErrClaimNotFound and is reserved
// on the retry; here the pod as written is used, and the claim is reserved in this sync.
func (c *Controller) reserveClaims(pod *corev1.Pod, i int, done func(error)) {
	if pod.Spec.NodeName == "" || i == len(pod.Spec.ResourceClaims) {
		done(nil)
		return
	}
	next := func(err error) {
		if err != nil {
			done(err)
			return
		}
		c.reserveClaims(pod, i+1, done)
	}
	podClaim := pod.Spec.ResourceClaims[i]
	claimName, checkOwner, err := resourceclaim.Name(pod, &podClaim)
	if err != nil {
		done(err)
		return
	}
	if claimName == nil {
		next(nil)
		return
	}
	claim, err := c.claim(pod.Namespace, *claimName)
	if apierrors.IsNotFound(err) {
		done(nil)
		return
	} else if err != nil {
		done(fmt.Errorf("retrieve claim: %v", err))
		return
	}
	if checkOwner {
		if err := resourceclaim.IsForPod(pod, claim, false); err != nil {
			done(err)
			return
		}
	}
	if claim.Status.Allocation == nil || resourceclaim.IsReservedForPod(pod, claim, false) || !resourceclaim.CanBeReserved(claim) {
		next(nil)
		return
	}
	consumer, err := resourceclaim.BindTo(pod, nil, &podClaim)
	if err != nil {
		done(err)
		return
	}
	c.send(func() error {
		claim := claim.DeepCopy()
		claim.Status.ReservedFor = append(claim.Status.ReservedFor, consumer)
		if _, err := c.m.API().UpdateStatus(claim); err != nil {
			return fmt.Errorf("reserve claim %s/%s: %w", claim.Namespace, claim.Name, err)
		}
		return nil
	}, next)
}
