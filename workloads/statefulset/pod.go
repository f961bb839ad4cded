package statefulset

import (
	"regexp"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// podNameRE and parentAndOrdinal are the real statefulPodRegex and getParentNameAndOrdinal
// (stateful_set_utils.go, unexported): a StatefulSet pod is named <set>-<ordinal>.
var podNameRE = regexp.MustCompile("(.*)-([0-9]+)$")

func parentAndOrdinal(p *corev1.Pod) (string, int) {
	m := podNameRE.FindStringSubmatch(p.Name)
	if len(m) < 3 {
		return "", -1
	}
	o, err := strconv.ParseInt(m[2], 10, 32)
	if err != nil {
		return m[1], -1
	}
	return m[1], int(o)
}

// isMemberOf is the real isMemberOf: the pod's name says it is one of set's.
func isMemberOf(set *appsv1.StatefulSet, p *corev1.Pod) bool {
	parent, _ := parentAndOrdinal(p)
	return parent == set.Name
}
