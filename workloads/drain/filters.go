package drain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kwoksim/kwoksim/sim"
)

// The messages of kubectl's filters (filters.go).
const (
	daemonSetFatal    = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
	localStorageFatal = "Pods with local storage (use --delete-emptydir-data to override)"
	unmanagedFatal    = "cannot delete Pods that declare no controller (use --force to override)"
)

// status is kubectl's PodDeleteStatus: delete or not, and why not (skip: left alone
// silently or with a warning; fatal: the drain fails).
type status struct {
	delete bool
	skip   string // why a pod is left on the node, for DrainRecord.Skipped
	fatal  string
}

var okay = status{delete: true}

// filter runs kubectl's base filters in their order (makeFilters): skipDeleted, daemonSet,
// mirrorPod, localStorage, unreplicated; the first that does not delete decides.
func (d *drain) filter(pod *corev1.Pod) status {
	for _, f := range []func(*corev1.Pod) status{d.skipDeletedFilter, d.daemonSetFilter, mirrorPodFilter, d.localStorageFilter, d.unreplicatedFilter} {
		if st := f(pod); !st.delete {
			return st
		}
	}
	return okay
}

func finished(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// shouldSkipPod is kubectl's: a pod deleted more than skipWaitForDeleteTimeoutSeconds ago
// (whole seconds, on the virtual clock).
func shouldSkipPod(pod *corev1.Pod, skipSeconds int, now time.Time) bool {
	return skipSeconds > 0 && pod.DeletionTimestamp != nil &&
		int(now.Sub(pod.DeletionTimestamp.Time).Seconds()) > skipSeconds
}

func (d *drain) skipDeletedFilter(pod *corev1.Pod) status {
	if shouldSkipPod(pod, d.opts.SkipWaitForDeleteTimeoutSeconds, d.now()) {
		return status{skip: "terminating"}
	}
	return okay
}

func (d *drain) daemonSetFilter(pod *corev1.Pod) status {
	ref := metav1.GetControllerOf(pod)
	if ref == nil || ref.Kind != "DaemonSet" || finished(pod) {
		return okay
	}
	dsKind, _ := sim.KindNamed("DaemonSet")
	if _, err := d.api.Get(dsKind, pod.Namespace, ref.Name); err != nil {
		if apierrors.IsNotFound(err) && d.opts.Force {
			return okay // an orphaned DaemonSet pod goes, with a warning, under --force
		}
		return status{fatal: err.Error()}
	}
	if !d.opts.IgnoreDaemonSets {
		return status{fatal: daemonSetFatal}
	}
	return status{skip: "DaemonSet"}
}

func mirrorPodFilter(pod *corev1.Pod) status {
	if _, ok := pod.Annotations[corev1.MirrorPodAnnotationKey]; ok {
		return status{skip: "mirror pod"}
	}
	return okay
}

func (d *drain) localStorageFilter(pod *corev1.Pod) status {
	hasEmptyDir := slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.EmptyDir != nil })
	if !hasEmptyDir || finished(pod) || d.opts.DeleteEmptyDirData {
		return okay
	}
	return status{fatal: localStorageFatal}
}

func (d *drain) unreplicatedFilter(pod *corev1.Pod) status {
	if finished(pod) || metav1.GetControllerOf(pod) != nil || d.opts.Force {
		return okay
	}
	return status{fatal: unmanagedFatal}
}

// filterErrors is PodDeleteList.errors: one error per message, naming its pods, "cannot
// delete " prefixed unless the message starts with it; sorted (kubectl's map order is not).
func filterErrors(fatal map[string][]string) []error {
	msgs := make([]string, 0, len(fatal))
	for m := range fatal {
		msgs = append(msgs, m)
	}
	slices.Sort(msgs)
	var errs []error
	for _, m := range msgs {
		pods := strings.Join(fatal[m], ", ")
		if strings.HasPrefix(strings.ToLower(m), "cannot delete") {
			errs = append(errs, fmt.Errorf("%s: %s", m, pods))
		} else {
			errs = append(errs, fmt.Errorf("cannot delete %s: %s", m, pods))
		}
	}
	return errs
}
