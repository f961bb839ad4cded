package replicaset

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appsinternal "k8s.io/kubernetes/pkg/apis/apps"
	appsconversion "k8s.io/kubernetes/pkg/apis/apps/v1"
	coreconversion "k8s.io/kubernetes/pkg/apis/core/v1"

	"github.com/kwoksim/kwoksim/controlplane"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// servedKind is what differs between the kinds the controller serves: how an object is read
// as a ReplicaSet and its status written back, and what its pods' controller reference says.
type servedKind struct {
	name string
	gvk  schema.GroupVersionKind
	// get reads the object as a ReplicaSet.
	get func(m *manager.Manager, ns, name string) (*appsv1.ReplicaSet, error)
	// updateStatus writes the status of the object the ReplicaSet stands for, and returns it
	// as stored, as a ReplicaSet.
	updateStatus func(m *manager.Manager, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error)
	// terminatingReplicas says whether the status reports terminatingReplicas.
	terminatingReplicas bool
	// client is the name of the controller's own client (cmd/kube-controller-manager/app:
	// NewClient("replicaset-controller") in apps.go, "replication-controller" in core.go).
	client string
	// workers is its --concurrent-*-syncs.
	workers func(controlplane.Flags) int32
}

var replicaSets = servedKind{
	name: "ReplicaSet",
	gvk:  appsv1.SchemeGroupVersion.WithKind("ReplicaSet"),
	get: func(m *manager.Manager, ns, name string) (*appsv1.ReplicaSet, error) {
		obj, err := m.Get("ReplicaSet", ns, name)
		if err != nil {
			return nil, err
		}
		return obj.(*appsv1.ReplicaSet), nil
	},
	updateStatus: func(m *manager.Manager, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
		out, err := m.API().UpdateStatus(rs)
		if err != nil {
			return nil, err
		}
		return out.(*appsv1.ReplicaSet), nil
	},
	// DeploymentReplicaSetTerminatingReplicas is beta and on in v1.37.
	terminatingReplicas: true,
	client:              "replicaset-controller",
	workers:             func(f controlplane.Flags) int32 { return f.ConcurrentReplicaSetSyncs },
}

// NewReplicationManager registers the ReplicationController controller with m. Like the real
// one (k8s.io/kubernetes/pkg/controller/replication, ReplicationManager), it is the
// ReplicaSet controller run through conversions: each ReplicationController is read as a
// ReplicaSet (convertRCtoRS: its selector map becomes matchLabels), its pods are controlled by
// the ReplicationController (apiVersion v1), and its status is converted back when written,
// without terminatingReplicas, which ReplicationControllers do not have
// (EnableStatusTerminatingReplicas: false).
func NewReplicationManager(m *manager.Manager) *Controller {
	return register(m, replicationControllers)
}

var replicationControllers = servedKind{
	name: "ReplicationController",
	gvk:  corev1.SchemeGroupVersion.WithKind("ReplicationController"),
	get: func(m *manager.Manager, ns, name string) (*appsv1.ReplicaSet, error) {
		obj, err := m.Get("ReplicationController", ns, name)
		if err != nil {
			return nil, err
		}
		return convertRCtoRS(obj.(*corev1.ReplicationController))
	},
	updateStatus: func(m *manager.Manager, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
		rc, err := convertRStoRC(rs)
		if err != nil {
			return nil, err
		}
		out, err := m.API().UpdateStatus(rc)
		if err != nil {
			return nil, err
		}
		return convertRCtoRS(out.(*corev1.ReplicationController))
	},
	client:  "replication-controller",
	workers: func(f controlplane.Flags) int32 { return f.ConcurrentRCSyncs },
}

// convertRCtoRS is the real convertRCtoRS (pkg/controller/replication/conversion.go): through
// the internal ReplicaSet, with the apiserver's own conversion functions.
func convertRCtoRS(rc *corev1.ReplicationController) (*appsv1.ReplicaSet, error) {
	var internal appsinternal.ReplicaSet
	if err := coreconversion.Convert_v1_ReplicationController_To_apps_ReplicaSet(rc, &internal, nil); err != nil {
		return nil, fmt.Errorf("can't convert ReplicationController %v/%v to ReplicaSet: %v", rc.Namespace, rc.Name, err)
	}
	out := new(appsv1.ReplicaSet)
	if err := appsconversion.Convert_apps_ReplicaSet_To_v1_ReplicaSet(&internal, out, nil); err != nil {
		return nil, fmt.Errorf("can't convert ReplicaSet (converted from ReplicationController %v/%v) from internal to apps/v1: %v", rc.Namespace, rc.Name, err)
	}
	return out, nil
}

// convertRStoRC is the real convertRStoRC.
func convertRStoRC(rs *appsv1.ReplicaSet) (*corev1.ReplicationController, error) {
	var internal appsinternal.ReplicaSet
	if err := appsconversion.Convert_v1_ReplicaSet_To_apps_ReplicaSet(rs, &internal, nil); err != nil {
		return nil, fmt.Errorf("can't convert ReplicaSet (converting to ReplicationController %v/%v) from apps/v1 to internal: %v", rs.Namespace, rs.Name, err)
	}
	rc := new(corev1.ReplicationController)
	if err := coreconversion.Convert_apps_ReplicaSet_To_v1_ReplicationController(&internal, rc, nil); err != nil {
		return nil, fmt.Errorf("can't convert ReplicaSet to ReplicationController %v/%v: %v", rs.Namespace, rs.Name, err)
	}
	return rc, nil
}
