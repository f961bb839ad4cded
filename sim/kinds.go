package sim

import (
	"fmt"
	"slices"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	apps "k8s.io/kubernetes/pkg/apis/apps"
	"k8s.io/kubernetes/pkg/apis/autoscaling"
	"k8s.io/kubernetes/pkg/apis/batch"
	core "k8s.io/kubernetes/pkg/apis/core"
	"k8s.io/kubernetes/pkg/apis/policy"
	"k8s.io/kubernetes/pkg/apis/scheduling"
	"k8s.io/kubernetes/pkg/apis/storage"
	daemonsetregistry "k8s.io/kubernetes/pkg/registry/apps/daemonset"
	deploymentregistry "k8s.io/kubernetes/pkg/registry/apps/deployment"
	replicasetregistry "k8s.io/kubernetes/pkg/registry/apps/replicaset"
	statefulsetregistry "k8s.io/kubernetes/pkg/registry/apps/statefulset"
	hparegistry "k8s.io/kubernetes/pkg/registry/autoscaling/horizontalpodautoscaler"
	cronjobregistry "k8s.io/kubernetes/pkg/registry/batch/cronjob"
	jobregistry "k8s.io/kubernetes/pkg/registry/batch/job"
	namespaceregistry "k8s.io/kubernetes/pkg/registry/core/namespace"
	noderegistry "k8s.io/kubernetes/pkg/registry/core/node"
	pvregistry "k8s.io/kubernetes/pkg/registry/core/persistentvolume"
	pvcregistry "k8s.io/kubernetes/pkg/registry/core/persistentvolumeclaim"
	podregistry "k8s.io/kubernetes/pkg/registry/core/pod"
	replicationcontrollerregistry "k8s.io/kubernetes/pkg/registry/core/replicationcontroller"
	serviceregistry "k8s.io/kubernetes/pkg/registry/core/service"
	pdbregistry "k8s.io/kubernetes/pkg/registry/policy/poddisruptionbudget"
	priorityclassregistry "k8s.io/kubernetes/pkg/registry/scheduling/priorityclass"
	csidriverregistry "k8s.io/kubernetes/pkg/registry/storage/csidriver"
	csinoderegistry "k8s.io/kubernetes/pkg/registry/storage/csinode"
	csistoragecapacityregistry "k8s.io/kubernetes/pkg/registry/storage/csistoragecapacity"
	storageclassregistry "k8s.io/kubernetes/pkg/registry/storage/storageclass"

	limitrangeregistry "k8s.io/kubernetes/pkg/registry/core/limitrange"
	resourcequotaregistry "k8s.io/kubernetes/pkg/registry/core/resourcequota"

	// The install packages register the internal types, conversions and the real defaulting
	// functions with legacyscheme.Scheme, exactly as kube-apiserver does.
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	_ "k8s.io/kubernetes/pkg/apis/autoscaling/install"
	_ "k8s.io/kubernetes/pkg/apis/batch/install"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	_ "k8s.io/kubernetes/pkg/apis/policy/install"
	_ "k8s.io/kubernetes/pkg/apis/scheduling/install"
	_ "k8s.io/kubernetes/pkg/apis/storage/install"
)

// strategy is what the apiserver's generic registry needs from a resource: the real REST
// strategies from k8s.io/kubernetes/pkg/registry implement it.
type strategy interface {
	rest.RESTCreateStrategy
	rest.RESTUpdateStrategy
	rest.RESTDeleteStrategy
}

// Kind describes one resource the simulated apiserver serves.
type Kind struct {
	GVK        schema.GroupVersionKind
	GVR        schema.GroupVersionResource
	Namespaced bool
	// newInternal returns an empty internal object, the form strategies work on.
	newInternal func() runtime.Object
	strategy    strategy
	// status is the strategy of the status subresource; nil if the kind has none.
	status rest.RESTUpdateStrategy
	// alsoFrom are other versions of the kind a create or update accepts: the scheme converts
	// them to GVK, as kube-apiserver serves several versions of one stored resource.
	alsoFrom []schema.GroupVersion
	// beginCreate and beginUpdate, when set, run on the internal object before the strategy,
	// as the generic registry's BeginCreate and BeginUpdate hooks do (Service's allocators).
	beginCreate func(a *API, k *Kind, obj runtime.Object) error
	beginUpdate func(a *API, k *Kind, obj, old runtime.Object) error
	// defaultOnRead applies the defaults again to a created object after its strategy.
	// kube-apiserver applies them whenever it decodes an object from storage, so every reader
	// sees them, also where the create strategy cleared a defaulted field; it matters for the
	// kinds where that happens (a new claim reads status.phase Pending, from
	// SetDefaults_PersistentVolumeClaim, although PrepareForCreate emptied its status), and
	// costs a defaulting pass per create elsewhere.
	defaultOnRead bool
}

// Name is the kind's name, e.g. "Pod".
func (k *Kind) Name() string { return k.GVK.Kind }

var kinds = func() map[string]*Kind {
	list := []*Kind{
		{
			GVK: corev1.SchemeGroupVersion.WithKind("Namespace"), GVR: corev1.SchemeGroupVersion.WithResource("namespaces"),
			newInternal: func() runtime.Object { return &core.Namespace{} },
			strategy:    namespaceregistry.Strategy, status: namespaceregistry.StatusStrategy,
		},
		{
			GVK: corev1.SchemeGroupVersion.WithKind("Node"), GVR: corev1.SchemeGroupVersion.WithResource("nodes"),
			newInternal: func() runtime.Object { return &core.Node{} },
			strategy:    noderegistry.Strategy, status: noderegistry.StatusStrategy,
		},
		{
			GVK: corev1.SchemeGroupVersion.WithKind("Pod"), GVR: corev1.SchemeGroupVersion.WithResource("pods"), Namespaced: true,
			newInternal: func() runtime.Object { return &core.Pod{} },
			strategy:    podregistry.Strategy, status: podregistry.StatusStrategy,
		},
		{
			GVK: appsv1.SchemeGroupVersion.WithKind("Deployment"), GVR: appsv1.SchemeGroupVersion.WithResource("deployments"), Namespaced: true,
			newInternal: func() runtime.Object { return &apps.Deployment{} },
			strategy:    deploymentregistry.Strategy, status: deploymentregistry.StatusStrategy,
		},
		{
			GVK: appsv1.SchemeGroupVersion.WithKind("ReplicaSet"), GVR: appsv1.SchemeGroupVersion.WithResource("replicasets"), Namespaced: true,
			newInternal: func() runtime.Object { return &apps.ReplicaSet{} },
			strategy:    replicasetregistry.Strategy, status: replicasetregistry.StatusStrategy,
		},
		{
			GVK: appsv1.SchemeGroupVersion.WithKind("StatefulSet"), GVR: appsv1.SchemeGroupVersion.WithResource("statefulsets"), Namespaced: true,
			newInternal: func() runtime.Object { return &apps.StatefulSet{} },
			strategy:    statefulsetregistry.Strategy, status: statefulsetregistry.StatusStrategy,
		},
		{
			GVK: appsv1.SchemeGroupVersion.WithKind("DaemonSet"), GVR: appsv1.SchemeGroupVersion.WithResource("daemonsets"), Namespaced: true,
			newInternal: func() runtime.Object { return &apps.DaemonSet{} },
			strategy:    daemonsetregistry.Strategy, status: daemonsetregistry.StatusStrategy,
		},
		{
			GVK: batchv1.SchemeGroupVersion.WithKind("Job"), GVR: batchv1.SchemeGroupVersion.WithResource("jobs"), Namespaced: true,
			newInternal: func() runtime.Object { return &batch.Job{} },
			strategy:    jobregistry.Strategy, status: jobregistry.StatusStrategy,
		},
		{
			GVK: schedulingv1.SchemeGroupVersion.WithKind("PriorityClass"), GVR: schedulingv1.SchemeGroupVersion.WithResource("priorityclasses"),
			newInternal: func() runtime.Object { return &scheduling.PriorityClass{} },
			strategy:    priorityclassregistry.Strategy,
		},
		// LimitRange and ResourceQuota: read by the LimitRanger and ResourceQuota admission
		// plugins (sim/admission.go, sim/quota.go); the quota's status is written by the
		// resource quota controller (workloads/resourcequota) and by admission itself.
		{
			GVK: corev1.SchemeGroupVersion.WithKind("LimitRange"), GVR: corev1.SchemeGroupVersion.WithResource("limitranges"), Namespaced: true,
			newInternal: func() runtime.Object { return &core.LimitRange{} },
			strategy:    limitrangeregistry.Strategy,
		},
		{
			GVK: corev1.SchemeGroupVersion.WithKind("ResourceQuota"), GVR: corev1.SchemeGroupVersion.WithResource("resourcequotas"), Namespaced: true,
			newInternal: func() runtime.Object { return &core.ResourceQuota{} },
			strategy:    resourcequotaregistry.Strategy, status: resourcequotaregistry.StatusStrategy,
		},
		{
			GVK: batchv1.SchemeGroupVersion.WithKind("CronJob"), GVR: batchv1.SchemeGroupVersion.WithResource("cronjobs"), Namespaced: true,
			newInternal: func() runtime.Object { return &batch.CronJob{} },
			strategy:    cronjobregistry.Strategy, status: cronjobregistry.StatusStrategy,
		},
		{
			GVK: corev1.SchemeGroupVersion.WithKind("ReplicationController"), GVR: corev1.SchemeGroupVersion.WithResource("replicationcontrollers"), Namespaced: true,
			newInternal: func() runtime.Object { return &core.ReplicationController{} },
			strategy:    replicationcontrollerregistry.Strategy, status: replicationcontrollerregistry.StatusStrategy,
		},
		// Kinds that bear on scheduling or lifecycle without a controller of their own here:
		// Services feed default topology spreading, PodDisruptionBudgets preemption (their
		// status comes from workloads/disruption), the storage kinds the VolumeBinding plugin;
		// HorizontalPodAutoscalers scale their targets (workloads/podautoscaler).
		{
			GVK: corev1.SchemeGroupVersion.WithKind("Service"), GVR: corev1.SchemeGroupVersion.WithResource("services"), Namespaced: true,
			newInternal: func() runtime.Object { return &core.Service{} },
			strategy:    serviceregistry.Strategy, status: serviceregistry.StatusStrategy,
			beginCreate: serviceBeginCreate, beginUpdate: serviceBeginUpdate,
		},
		{
			GVK: policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"), GVR: policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets"), Namespaced: true,
			newInternal: func() runtime.Object { return &policy.PodDisruptionBudget{} },
			strategy:    pdbregistry.Strategy, status: pdbregistry.StatusStrategy,
		},
		{
			GVK: storagev1.SchemeGroupVersion.WithKind("StorageClass"), GVR: storagev1.SchemeGroupVersion.WithResource("storageclasses"),
			newInternal: func() runtime.Object { return &storage.StorageClass{} },
			strategy:    storageclassregistry.Strategy,
		},
		// The CSI kinds: the scheduler's NodeVolumeLimits counts a node's CSI volumes against
		// its CSINode's allocatable count per driver, VolumeBinding reads CSIDriver (whether
		// the driver publishes storage capacity) and CSIStorageCapacity; the provisioning
		// stages read a node's CSINode for the driver's topology keys (sim/stageenv.go). A real
		// cluster's kubelet writes CSINodes and a driver's deployment its CSIDriver; here they
		// are input objects.
		{
			GVK: storagev1.SchemeGroupVersion.WithKind("CSIDriver"), GVR: storagev1.SchemeGroupVersion.WithResource("csidrivers"),
			newInternal: func() runtime.Object { return &storage.CSIDriver{} },
			strategy:    csidriverregistry.Strategy,
		},
		{
			GVK: storagev1.SchemeGroupVersion.WithKind("CSINode"), GVR: storagev1.SchemeGroupVersion.WithResource("csinodes"),
			newInternal: func() runtime.Object { return &storage.CSINode{} },
			strategy:    csinoderegistry.Strategy, status: csinoderegistry.StatusStrategy,
		},
		{
			GVK: storagev1.SchemeGroupVersion.WithKind("CSIStorageCapacity"), GVR: storagev1.SchemeGroupVersion.WithResource("csistoragecapacities"), Namespaced: true,
			newInternal: func() runtime.Object { return &storage.CSIStorageCapacity{} },
			strategy:    csistoragecapacityregistry.Strategy,
		},
		{
			GVK: corev1.SchemeGroupVersion.WithKind("PersistentVolume"), GVR: corev1.SchemeGroupVersion.WithResource("persistentvolumes"),
			newInternal: func() runtime.Object { return &core.PersistentVolume{} },
			strategy:    pvregistry.Strategy, status: pvregistry.StatusStrategy,
		},
		{
			GVK: corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"), GVR: corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims"), Namespaced: true,
			newInternal: func() runtime.Object { return &core.PersistentVolumeClaim{} },
			strategy:    pvcregistry.Strategy, status: pvcregistry.StatusStrategy,
			defaultOnRead: true,
		},
		{
			GVK: autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"), GVR: autoscalingv2.SchemeGroupVersion.WithResource("horizontalpodautoscalers"), Namespaced: true,
			newInternal: func() runtime.Object { return &autoscaling.HorizontalPodAutoscaler{} },
			strategy:    hparegistry.Strategy, status: hparegistry.StatusStrategy,
			alsoFrom: []schema.GroupVersion{autoscalingv1.SchemeGroupVersion},
		},
	}
	list = append(list, resourceKinds()...)
	m := make(map[string]*Kind, len(list))
	for _, k := range list {
		m[k.GVK.Kind] = k
	}
	return m
}()

// KindOf returns the served kind of a typed, versioned object.
func KindOf(obj runtime.Object) (*Kind, error) {
	gvks, _, err := legacyscheme.Scheme.ObjectKinds(obj)
	if err != nil {
		return nil, err
	}
	for _, gvk := range gvks {
		if k, ok := kinds[gvk.Kind]; ok && (k.GVK == gvk || slices.Contains(k.alsoFrom, gvk.GroupVersion())) {
			return k, nil
		}
	}
	return nil, fmt.Errorf("kind %s is not supported by the simulator (supported: %v)", gvks[0].Kind, SupportedKinds())
}

// KindNamed returns the served kind with that name.
func KindNamed(name string) (*Kind, error) {
	if k, ok := kinds[name]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("kind %q is not supported by the simulator (supported: %v)", name, SupportedKinds())
}

// SupportedKinds lists the kinds the simulator serves, sorted.
func SupportedKinds() []string {
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
