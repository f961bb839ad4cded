package workloads

import (
	"context"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller"
	deploymentutil "k8s.io/kubernetes/pkg/controller/deployment/util"
	labelsutil "k8s.io/kubernetes/pkg/util/labels"
)

// maxRevHistoryLengthInChars is the deployment controller's bound on the revision-history
// annotation.
const maxRevHistoryLengthInChars = 2000

var deploymentKind = appsv1.SchemeGroupVersion.WithKind("Deployment")

func (c *Controllers) deploymentController() controllerDef {
	return controllerDef{kind: "Deployment", sync: c.syncDeployment}
}

// syncDeployment makes sure the Deployment's ReplicaSet for its current template exists with
// the desired replicas. Rolling updates of an existing template are a later addition.
func (c *Controllers) syncDeployment(ns, name string) error {
	obj, err := c.get("Deployment", ns, name)
	if err != nil {
		return nil // deleted since
	}
	d := obj.(*appsv1.Deployment)
	if d.DeletionTimestamp != nil {
		return nil
	}
	var rsList []*appsv1.ReplicaSet
	for _, o := range c.ownedBy(d.UID, "ReplicaSet") {
		rsList = append(rsList, o.(*appsv1.ReplicaSet))
	}
	ctx := klog.NewContext(context.Background(), klog.Background())
	newRS := deploymentutil.FindNewReplicaSet(d, rsList)
	if newRS == nil {
		return c.createReplicaSet(ctx, d, rsList)
	}
	replicas := *d.Spec.Replicas
	if *newRS.Spec.Replicas != replicas || deploymentutil.ReplicasAnnotationsNeedUpdate(newRS, replicas, replicas+deploymentutil.MaxSurge(*d)) {
		rs := newRS.DeepCopy()
		rs.Spec.Replicas = &replicas
		deploymentutil.SetReplicasAnnotations(rs, replicas, replicas+deploymentutil.MaxSurge(*d))
		_, err = c.s.API().Update(rs)
		return err
	}
	return nil
}

func (c *Controllers) createReplicaSet(ctx context.Context, d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet) error {
	template := *d.Spec.Template.DeepCopy()
	hash := controller.ComputeHash(&template, d.Status.CollisionCount)
	template.Labels = labelsutil.CloneAndAddLabel(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            replicaSetName(d.Name, hash),
			Namespace:       d.Namespace,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, deploymentKind)},
			Labels:          template.Labels,
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        new(int32),
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        labelsutil.CloneSelectorAndAddLabel(d.Spec.Selector, appsv1.DefaultDeploymentUniqueLabelKey, hash),
			Template:        template,
		},
	}
	replicas, err := deploymentutil.NewRSNewReplicas(d, append(oldRSs, rs), rs)
	if err != nil {
		return err
	}
	*rs.Spec.Replicas = replicas
	revision := strconv.FormatInt(deploymentutil.MaxRevision(klog.FromContext(ctx), oldRSs)+1, 10)
	deploymentutil.SetNewReplicaSetAnnotations(ctx, d, rs, revision, false, maxRevHistoryLengthInChars)
	_, err = c.s.API().Create(rs)
	return err
}

// replicaSetName is the deployment controller's name for a ReplicaSet: the Deployment's name,
// shortened if needed, and the pod-template hash.
func replicaSetName(deployment, hash string) string {
	max := validation.DNS1123SubdomainMaxLength - 1 - len(hash)
	if len(deployment) > max && max > 0 {
		deployment = deployment[:max]
	}
	return deployment + "-" + hash
}
