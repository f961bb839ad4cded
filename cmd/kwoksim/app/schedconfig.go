package app

import (
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/input"
)

// loadSchedulerConfig reads --scheduler-config through in, bounded by maxDocumentBytes (0: the
// default); no file means kube-scheduler's defaults (nil). plugins are the build's
// out-of-tree scheduler plugins, which the file may enable.
func loadSchedulerConfig(in *input.Reader, path string, maxDocumentBytes int, plugins frameworkruntime.Registry) (*schedulerapi.KubeSchedulerConfiguration, error) {
	if path == "" {
		return nil, nil
	}
	data, err := in.ReadFile(path, maxDocumentBytes)
	if err != nil {
		return nil, err
	}
	return sim.ParseSchedulerConfig(input.Name(path), data, plugins)
}
