package sim

import "k8s.io/apimachinery/pkg/runtime"

// workloadKinds are the kinds whose objects the report lists as workloads, in the order it
// reads them.
var workloadKinds = []string{"CronJob", "DaemonSet", "Deployment", "Job", "ReplicaSet", "ReplicationController", "StatefulSet"}

// workloadObjects lists the workload objects that exist at the end of the run, by kind, then
// namespace and name (API.List's order). They are the stored objects: read only.
func (s *Simulator) workloadObjects() ([]runtime.Object, error) {
	var out []runtime.Object
	for _, name := range workloadKinds {
		objs, err := s.api.List(kinds[name])
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}
