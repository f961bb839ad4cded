package sim

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/controlplane"
)

func tolerationsOf(p *corev1.Pod) string {
	var out []string
	for _, t := range p.Spec.Tolerations {
		secs := "-"
		if t.TolerationSeconds != nil {
			secs = fmt.Sprint(*t.TolerationSeconds)
		}
		out = append(out, fmt.Sprintf("%s:%s:%s:%s", t.Key, t.Operator, t.Effect, secs))
	}
	return strings.Join(out, " ")
}

// DefaultTolerationSeconds (plugin/pkg/admission/defaulttolerationseconds, Admit) adds the
// not-ready and unreachable NoExecute tolerations a pod lacks, with the run's seconds; a
// toleration with an empty key or effect already tolerates them.
func TestDefaultTolerationSeconds(t *testing.T) {
	flags := controlplane.Defaults()
	flags.DefaultNotReadyTolerationSeconds, flags.DefaultUnreachableTolerationSeconds = 120, 60
	for _, tc := range []struct {
		name string
		has  []corev1.Toleration
		want string
	}{
		{"none", nil, "node.kubernetes.io/not-ready:Exists:NoExecute:120 node.kubernetes.io/unreachable:Exists:NoExecute:60"},
		{"own not-ready", []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64(5))}},
			"node.kubernetes.io/not-ready:Exists:NoExecute:5 node.kubernetes.io/unreachable:Exists:NoExecute:60"},
		{"tolerates everything", []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, ":Exists::-"},
		{"NoSchedule only", []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			"node.kubernetes.io/unreachable:Exists:NoSchedule:- node.kubernetes.io/not-ready:Exists:NoExecute:120 node.kubernetes.io/unreachable:Exists:NoExecute:60"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, Config{Seed: 1, ControlPlane: &flags})
			p := pod("p")
			p.Spec.Tolerations = tc.has
			mustCreate(t, s, p)
			if got := tolerationsOf(getPod(t, s, "p")); got != tc.want {
				t.Errorf("tolerations %s, want %s", got, tc.want)
			}
		})
	}
	// The defaults are 300 s.
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, pod("p"))
	if got, want := tolerationsOf(getPod(t, s, "p")), "node.kubernetes.io/not-ready:Exists:NoExecute:300 node.kubernetes.io/unreachable:Exists:NoExecute:300"; got != want {
		t.Errorf("defaults: %s, want %s", got, want)
	}
}
