package workloads

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller"
	deploymentutil "k8s.io/kubernetes/pkg/controller/deployment/util"
	labelsutil "k8s.io/kubernetes/pkg/util/labels"

	"github.com/kwoksim/kwoksim/sim"
)

// maxRevHistoryLengthInChars is the deployment controller's bound on the revision-history
// annotation.
const maxRevHistoryLengthInChars = 2000

var (
	deploymentKind = appsv1.SchemeGroupVersion.WithKind("Deployment")
	replicaSetKind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
)

// Controllers are the workload controllers of a simulated cluster. Like the real ones they
// react to changes, but each sync runs as an event on the virtual clock at the instant of the
// change, in the order the changes happened, so a run is reproducible.
type Controllers struct {
	s       *sim.Simulator
	pending map[string]bool
	// owned indexes live pods and ReplicaSets by the UID of their controller.
	owned map[types.UID]map[objectKey]bool
}

type objectKey struct{ kind, namespace, name string }

// Install starts the workload controllers on s.
func Install(s *sim.Simulator) *Controllers {
	c := &Controllers{s: s, pending: map[string]bool{}, owned: map[types.UID]map[objectKey]bool{}}
	s.API().Watch(c.observe)
	return c
}

func (c *Controllers) observe(ev sim.WatchEvent) {
	obj := ev.Object.(metav1.Object)
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref != nil {
		k := objectKey{ev.Kind.Name(), obj.GetNamespace(), obj.GetName()}
		if ev.Type == watch.Deleted {
			delete(c.owned[ref.UID], k)
		} else {
			if c.owned[ref.UID] == nil {
				c.owned[ref.UID] = map[objectKey]bool{}
			}
			c.owned[ref.UID][k] = true
		}
	}
	switch ev.Kind.Name() {
	case "Deployment":
		if ev.Type != watch.Deleted {
			c.enqueue("Deployment", obj.GetNamespace(), obj.GetName())
		}
	case "ReplicaSet":
		if ev.Type != watch.Deleted {
			c.enqueue("ReplicaSet", obj.GetNamespace(), obj.GetName())
		}
		if ref != nil && ref.Kind == "Deployment" {
			c.enqueue("Deployment", obj.GetNamespace(), ref.Name)
		}
	case "Pod":
		// A pod that goes away, terminates or starts being deleted makes its ReplicaSet short.
		if ref != nil && ref.Kind == "ReplicaSet" && podLeft(ev) {
			c.enqueue("ReplicaSet", obj.GetNamespace(), ref.Name)
		}
	}
}

func podLeft(ev sim.WatchEvent) bool {
	if ev.Type == watch.Deleted {
		return true
	}
	if ev.Old == nil {
		return false
	}
	return controller.IsPodActive(ev.Old.(*corev1.Pod)) && !controller.IsPodActive(ev.Object.(*corev1.Pod))
}

// enqueue schedules one sync of an object at the current instant; repeated changes before it
// runs collapse into that one sync, as a controller's work queue does.
func (c *Controllers) enqueue(kind, ns, name string) {
	key := kind + "/" + ns + "/" + name
	if c.pending[key] {
		return
	}
	c.pending[key] = true
	c.s.Clock().AfterDelay(0, func() {
		delete(c.pending, key)
		var err error
		switch kind {
		case "Deployment":
			err = c.syncDeployment(ns, name)
		case "ReplicaSet":
			err = c.syncReplicaSet(ns, name)
		}
		if err != nil {
			c.s.Recorder().Warn(kind, ns, name, "SyncFailed", err.Error())
		}
	})
}

func (c *Controllers) get(kind, ns, name string) (interface{}, error) {
	k, err := sim.KindNamed(kind)
	if err != nil {
		return nil, err
	}
	return c.s.API().Get(k, ns, name)
}

// ownedBy returns the live objects of a kind controlled by the owner, sorted by name.
func (c *Controllers) ownedBy(owner types.UID, kind string) []interface{} {
	var keys []objectKey
	for k := range c.owned[owner] {
		if k.kind == kind {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].name < keys[j].name })
	var out []interface{}
	for _, k := range keys {
		if obj, err := c.get(kind, k.namespace, k.name); err == nil {
			out = append(out, obj)
		}
	}
	return out
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

// syncReplicaSet creates the pods a ReplicaSet is short of. Scale-down, which needs the
// ReplicaSet controller's pod ranking, is a later addition.
func (c *Controllers) syncReplicaSet(ns, name string) error {
	obj, err := c.get("ReplicaSet", ns, name)
	if err != nil {
		return nil
	}
	rs := obj.(*appsv1.ReplicaSet)
	if rs.DeletionTimestamp != nil {
		return nil
	}
	active := 0
	for _, o := range c.ownedBy(rs.UID, "Pod") {
		if controller.IsPodActive(o.(*corev1.Pod)) {
			active++
		}
	}
	ref := metav1.NewControllerRef(rs, replicaSetKind)
	for i := active; i < int(*rs.Spec.Replicas); i++ {
		pod, err := controller.GetPodFromTemplate(&rs.Spec.Template, rs, ref)
		if err != nil {
			return err
		}
		// The real controller passes the namespace to the client call, not in the pod.
		pod.Namespace = rs.Namespace
		if _, err := c.s.API().Create(pod); err != nil {
			return fmt.Errorf("creating a pod: %w", err)
		}
	}
	return nil
}
