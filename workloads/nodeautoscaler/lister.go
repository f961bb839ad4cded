package nodeautoscaler

import (
	fwk "k8s.io/kube-scheduler/framework"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// swapLister is the lister the autoscaler's frameworks read: whichever Snapshot is deciding
// at the moment. A framework is built once per scheduler profile; snapshots come and go.
type swapLister struct{ cur *internalcache.Snapshot }

func (l *swapLister) NodeInfos() fwk.NodeInfoLister       { return l.cur.NodeInfos() }
func (l *swapLister) StorageInfos() fwk.StorageInfoLister { return l.cur.StorageInfos() }
func (l *swapLister) PodGroupStates() fwk.PodGroupStateLister {
	return l.cur.PodGroupStates()
}
func (l *swapLister) PodGroups() fwk.PodGroupLister { return l.cur.PodGroups() }
func (l *swapLister) CompositePodGroupStates() fwk.CompositePodGroupStateLister {
	return l.cur.CompositePodGroupStates()
}
func (l *swapLister) CompositePodGroups() fwk.CompositePodGroupLister {
	return l.cur.CompositePodGroups()
}

// framework is the Filter framework of a scheduler profile, reading cur.
func (rt *Runtime) framework(schedulerName string, cur *internalcache.Snapshot) (framework.Framework, error) {
	if schedulerName == "" {
		schedulerName = corev1DefaultScheduler
	}
	rt.lister.cur = cur
	if fw, ok := rt.frameworks[schedulerName]; ok {
		return fw, nil
	}
	fw, err := rt.s.FilterFramework(schedulerName, rt.lister)
	if err != nil {
		return nil, err
	}
	rt.frameworks[schedulerName] = fw
	return fw, nil
}

// corev1DefaultScheduler is the scheduler name the apiserver defaults (corev1.DefaultSchedulerName).
const corev1DefaultScheduler = "default-scheduler"
