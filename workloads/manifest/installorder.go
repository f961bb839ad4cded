package manifest

import (
	"cmp"
	"slices"
)

// installOrder is Helm's InstallOrder (helm pkg/release/v1/util/kind_sorter.go), the order in
// which `helm install` creates a chart's objects, so that a Namespace or a PriorityClass exists
// before the objects that name it. Kinds kwoksim does not store are listed too: the order is
// Helm's, whatever the simulator serves.
//
// kwoksim's one addition: Helm does not list the Dynamic Resource Allocation kinds, so it
// would create them last, after the workloads whose pods need them. They are put after the
// storage kinds, as those are: the cluster-scoped classes and a driver's slices first, then
// the namespaced templates and claims that name a class, all before the workloads.
var installOrder = []string{
	"PriorityClass",
	"Namespace",
	"NetworkPolicy",
	"ResourceQuota",
	"LimitRange",
	"PodSecurityPolicy",
	"PodDisruptionBudget",
	"ServiceAccount",
	"Secret",
	"SecretList",
	"ConfigMap",
	"StorageClass",
	"PersistentVolume",
	"PersistentVolumeClaim",
	"DeviceClass",           // kwoksim, not Helm
	"ResourceSlice",         // kwoksim, not Helm
	"DeviceTaintRule",       // kwoksim, not Helm
	"ResourceClaimTemplate", // kwoksim, not Helm
	"ResourceClaim",         // kwoksim, not Helm
	"CustomResourceDefinition",
	"ClusterRole",
	"ClusterRoleList",
	"ClusterRoleBinding",
	"ClusterRoleBindingList",
	"Role",
	"RoleList",
	"RoleBinding",
	"RoleBindingList",
	"Service",
	"DaemonSet",
	"Pod",
	"ReplicationController",
	"ReplicaSet",
	"Deployment",
	"HorizontalPodAutoscaler",
	"StatefulSet",
	"Job",
	"CronJob",
	"IngressClass",
	"Ingress",
	"APIService",
	"MutatingWebhookConfiguration",
	"ValidatingWebhookConfiguration",
}

// SortInstallOrder orders objects as Helm installs them: by kind in Helm's InstallOrder, kinds
// it does not list last, in alphabetical order (as Helm's kindSorter.Less). Deliberate
// deviation: within a kind the input order is kept (a stable sort), as `kubectl apply -f`
// keeps it, where Helm sorts by name.
func SortInstallOrder(objs []Object) {
	rank := make(map[string]int, len(installOrder))
	for i, k := range installOrder {
		rank[k] = i
	}
	kindOf := func(o Object) string { return o.Obj.GetObjectKind().GroupVersionKind().Kind }
	slices.SortStableFunc(objs, func(a, b Object) int {
		ka, kb := kindOf(a), kindOf(b)
		ra, aok := rank[ka]
		rb, bok := rank[kb]
		switch {
		case aok && bok:
			return ra - rb
		case aok:
			return -1
		case bok:
			return 1
		}
		return cmp.Compare(ka, kb)
	})
}
