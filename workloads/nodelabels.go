package workloads

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// kubeletLabels are the labels a kubelet puts on the Node it registers, with the value each
// takes here: pkg/kubelet/kubelet_node_status.go, (*Kubelet).initialNode, sets
// kubernetes.io/hostname to the host's name and kubernetes.io/os and kubernetes.io/arch to the
// kubelet's GOOS and GOARCH. kwoksim has no host, so the hostname is the node's name (what
// it is unless --hostname-override says otherwise) and the platform the common linux/amd64.
var kubeletLabels = []struct {
	key   string
	value func(*corev1.Node) string
}{
	{corev1.LabelHostname, func(n *corev1.Node) string { return n.Name }},
	{corev1.LabelOSStable, func(*corev1.Node) string { return "linux" }},
	{corev1.LabelArchStable, func(*corev1.Node) string { return "amd64" }},
}

// RegisterNodes gives each Node the kubelet's labels it lacks, as a kubelet registering it
// would, and returns the nodes (a changed Node is a copy; the others are shared) and a note
// per label added, for the report. Without kubernetes.io/hostname the scheduler's hostname
// topology (anti-affinity, spreading) finds no domain on the node, and two pods that must not
// share a node would silently share one.
func RegisterNodes(nodes []manifest.Object) ([]manifest.Object, []string) {
	out := make([]manifest.Object, len(nodes))
	copy(out, nodes)
	added := make([][]string, len(kubeletLabels))
	for i, o := range out {
		n, ok := o.Obj.(*corev1.Node)
		if !ok {
			continue
		}
		copied := false
		for j, l := range kubeletLabels {
			if _, ok := n.Labels[l.key]; ok {
				continue
			}
			if !copied {
				n = n.DeepCopy()
				if n.Labels == nil {
					n.Labels = map[string]string{}
				}
				out[i].Obj, copied = n, true
			}
			n.Labels[l.key] = l.value(n)
			added[j] = append(added[j], n.Name)
		}
	}
	// One note per set of nodes: a node written without labels lacks all three.
	var notes []string
	for j := 0; j < len(kubeletLabels); {
		keys := []string{kubeletLabels[j].key}
		k := j + 1
		for ; k < len(kubeletLabels) && slices.Equal(added[k], added[j]); k++ {
			keys = append(keys, kubeletLabels[k].key)
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
