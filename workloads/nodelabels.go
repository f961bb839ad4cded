package workloads

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// RegisterNodes gives each Node the kubelet's labels it lacks, as a kubelet registering it
// would (see manifest.AddKubeletLabels), and returns the nodes (a changed Node is a copy, the
// others are shared) and a note per set of labels added, for the report. Without kubernetes.io/hostname the scheduler's hostname
// topology (anti-affinity, spreading) finds no domain on the node, and two pods that must not
// share a node would silently share one.
func RegisterNodes(nodes []manifest.Object) ([]manifest.Object, []string) {
	out := make([]manifest.Object, len(nodes))
	copy(out, nodes)
	added := make([][]string, len(manifest.KubeletLabelKeys))
	for i, o := range out {
		n, ok := o.Obj.(*corev1.Node)
		if !ok || hasAll(n.Labels, manifest.KubeletLabelKeys) {
			continue
		}
		c := n.DeepCopy()
		keys := manifest.AddKubeletLabels(c)
		if len(keys) == 0 {
			continue
		}
		out[i].Obj = c
		for _, key := range keys {
			j := slices.Index(manifest.KubeletLabelKeys, key)
			added[j] = append(added[j], n.Name)
		}
	}
	// One note per set of nodes: a node written without labels lacks all three.
	var notes []string
	all := manifest.KubeletLabelKeys
	for j := 0; j < len(all); {
		keys := []string{all[j]}
		k := j + 1
		for ; k < len(all) && slices.Equal(added[k], added[j]); k++ {
			keys = append(keys, all[k])
		}
		if len(added[j]) > 0 {
			what, pronoun := "label "+keys[0], "it"
			if len(keys) > 1 {
				what, pronoun = "labels "+strings.Join(keys, ", "), "them"
			}
			notes = append(notes, fmt.Sprintf("%s set on %s that lacked %s (%s), as a kubelet does when it registers a node",
				what, nodeCount(len(added[j])), pronoun, nameList(added[j])))
		}
		j = k
	}
	return out, notes
}

func hasAll(labels map[string]string, keys []string) bool {
	for _, k := range keys {
		if _, ok := labels[k]; !ok {
			return false
		}
	}
	return true
}

func nodeCount(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

// nameList lists the first few names, so that a note stays one line on large clusters.
func nameList(names []string) string {
	const maxNames = 3
	if len(names) <= maxNames {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxNames], ", "), len(names)-maxNames)
}
