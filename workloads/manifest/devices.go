package manifest

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/workloads/devices"
)

// checkDevicesAnnotation returns the problem with the kwoksim.io/devices annotation of a Node
// or of a NodePool's node template (workloads/devices), as a message with its field path;
// "" when there is none. Checked here, where every input, node template and trace apply is
// decoded, so that a bad value is bad input naming its file, line and node instead of a
// warning hours into a run.
func checkDevicesAnnotation(obj runtime.Object) string {
	var annotations map[string]string
	var path string
	switch o := obj.(type) {
	case *corev1.Node:
		annotations, path = o.Annotations, fmt.Sprintf("node %q: metadata.annotations", o.Name)
	case *autoscaling.NodePool:
		annotations, path = o.Spec.Template.Annotations, fmt.Sprintf("NodePool %q: spec.template.metadata.annotations", o.Name)
	}
	v, ok := annotations[devices.Annotation]
	if !ok {
		return ""
	}
	if _, err := devices.Parse(v); err != nil {
		sep := ""
		if e, ok := err.(*devices.Error); !ok || e.Path == "" {
			sep = ": "
		}
		return fmt.Sprintf("%s[%q]%s%v", path, devices.Annotation, sep, err)
	}
	return ""
}
