package manifest

import corev1 "k8s.io/api/core/v1"

// KubeletLabelKeys are the labels a kubelet puts on the Node it registers, in the order
// AddKubeletLabels adds them.
var KubeletLabelKeys = []string{corev1.LabelHostname, corev1.LabelOSStable, corev1.LabelArchStable}

// AddKubeletLabels gives n the labels a kubelet registering it would set and it lacks, and
// returns their keys. It follows pkg/kubelet/kubelet_node_status.go, (*Kubelet).initialNode,
// which sets kubernetes.io/hostname to the host's name and kubernetes.io/os and
// kubernetes.io/arch to the kubelet's GOOS and GOARCH. kwoksim has no host: the hostname is the
// node's name (as it is unless --hostname-override says otherwise) and the platform the common
// linux/amd64. A label already set, whatever its value, is kept.
func AddKubeletLabels(n *corev1.Node) []string {
	var added []string
	for _, key := range KubeletLabelKeys {
		if _, ok := n.Labels[key]; ok {
			continue
		}
		if n.Labels == nil {
			n.Labels = map[string]string{}
		}
		switch key {
		case corev1.LabelHostname:
			n.Labels[key] = n.Name
		case corev1.LabelOSStable:
			n.Labels[key] = "linux"
		case corev1.LabelArchStable:
			n.Labels[key] = "amd64"
		}
		added = append(added, key)
	}
	return added
}
