package sim

import (
	"encoding/json"
	"io"
	"slices"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// stateKinds are the kinds a state lists, in the order kubectl lists them when asked for
// them by name, owners before what they own so that a reader sees them in that order.
var stateKinds = []string{"Namespace", "PriorityClass", "Node", "CSINode", "LimitRange", "ResourceQuota",
	"CSIDriver", "StorageClass", "CSIStorageCapacity", "PersistentVolume", "PersistentVolumeClaim", "Service",
	"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "CronJob", "Job", "Pod",
	"PodDisruptionBudget", "HorizontalPodAutoscaler"}

// stateOrder is stateKinds, then any served kind it does not name, by name: the state holds
// every stored object whatever kinds are added later.
func stateOrder() []string {
	order := append([]string(nil), stateKinds...)
	for _, name := range SupportedKinds() {
		if !slices.Contains(order, name) {
			order = append(order, name)
		}
	}
	return order
}

// State returns every stored object, kind by kind (stateOrder), each sorted by namespace and
// name, with its apiVersion and kind set: the cluster as `kubectl get -o yaml` would dump it,
// and what Restore loads.
func (a *API) State() ([]runtime.Object, error) {
	var out []runtime.Object
	for _, name := range stateOrder() {
		k := kinds[name]
		objs, err := a.List(k)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			o.GetObjectKind().SetGroupVersionKind(k.GVK)
			out = append(out, o)
		}
	}
	return out, nil
}

// WriteState writes objects as one v1 List in YAML, the form of `kubectl get -o yaml`.
func WriteState(w io.Writer, objs []runtime.Object) error {
	items := make([]json.RawMessage, 0, len(objs))
	for _, o := range objs {
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		items = append(items, b)
	}
	b, err := yaml.Marshal(map[string]any{
		"apiVersion": "v1",
		"kind":       "List",
		"metadata":   map[string]any{"resourceVersion": ""},
		"items":      items,
	})
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
