package main

import (
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/kwoksim/kwoksim/sim"
)

// loadSchedulerConfig reads --scheduler-config; no file means kube-scheduler's defaults (nil).
func loadSchedulerConfig(path string) (*schedulerapi.KubeSchedulerConfiguration, error) {
	if path == "" {
		return nil, nil
	}
	return sim.LoadSchedulerConfig(path)
}
