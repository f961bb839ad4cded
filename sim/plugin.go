package sim

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"
)

// recorderPluginName is the observation-only plugin the simulator adds to every profile: it
// tells the driver that a binding cycle has started (Reserve) and finished (PostBind).
const recorderPluginName = "KwoksimRecorder"

type recorderPlugin struct{ d *driver }

var (
	_ fwk.ReservePlugin  = (*recorderPlugin)(nil)
	_ fwk.PostBindPlugin = (*recorderPlugin)(nil)
)

func (*recorderPlugin) Name() string { return recorderPluginName }

func (p *recorderPlugin) Reserve(_ context.Context, _ fwk.CycleState, pod *corev1.Pod, _ string) *fwk.Status {
	p.d.reserved(pod)
	return nil
}

func (*recorderPlugin) Unreserve(context.Context, fwk.CycleState, *corev1.Pod, string) {}

func (p *recorderPlugin) PostBind(_ context.Context, _ fwk.CycleState, pod *corev1.Pod, _ string) {
	p.d.bound(pod)
}

// addRecorderPlugin enables the recorder last at Reserve and PostBind, after every real plugin.
func addRecorderPlugin(p *schedulerapi.KubeSchedulerProfile) {
	if p.Plugins == nil {
		p.Plugins = &schedulerapi.Plugins{}
	}
	pl := schedulerapi.Plugin{Name: recorderPluginName}
	p.Plugins.Reserve.Enabled = append(p.Plugins.Reserve.Enabled, pl)
	p.Plugins.PostBind.Enabled = append(p.Plugins.PostBind.Enabled, pl)
}
