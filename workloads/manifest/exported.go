package manifest

// What trace files share with manifests: events that apply objects decode them as manifests
// are decoded, and report problems the same way.

// WorkloadKinds are the workload kinds kwoksim started with, for loads that must refuse any
// other (tests). `--workload` and `-f` take whatever the simulator serves and skip the rest
// (see LoadMixed), and trace apply takes every served kind: neither reads this list.
var WorkloadKinds = map[string]bool{"Deployment": true, "ReplicaSet": true, "StatefulSet": true, "DaemonSet": true, "Job": true, "Pod": true, "Namespace": true, "PriorityClass": true}

// Decode decodes one JSON object (a document, a List, or an item found elsewhere such as a
// trace event's body) from src, accepting the given kinds (nil: any). where prefixes every
// message, as "apply: ". The first problem found is the error.
func Decode(src Source, j []byte, kinds map[string]bool, where string) ([]Object, error) {
	l := &loader{opts: LoadOptions{Kinds: kinds}}
	l.decode(src, j, where)
	if len(l.errs) > 0 {
		return nil, l.errs[0]
	}
	return l.objs, nil
}

// JSONType names the JSON type of a value for messages ("a list", "a string", …).
func JSONType(j []byte) string { return jsonType(j) }

// YAMLError turns a sigs.k8s.io/yaml error in a document starting at docLine into a file line
// and a message.
func YAMLError(err error, docLine int, doc []byte) (int, string) { return yamlError(err, docLine, doc) }

// ExpectedKinds lists a set of kinds for a message: "Node", or "one of A, B".
func ExpectedKinds(kinds map[string]bool) string { return expectedKinds(kinds) }
