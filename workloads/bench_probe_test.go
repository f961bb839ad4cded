package workloads_test

import (
	"context"
	"flag"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

var benchProbe = flag.Bool("bench-probe", false, "after each variant of BenchmarkSchedulingThroughput, time the scheduler's hot loops on its final state")

// probeLayout times, on a variant's final state, what decides a large run's speed and
// depends on how the objects the scheduler reads lie in memory: the PreFilter and PreScore
// plugins for one more pod of the Deployment (500 candidate nodes, as the scheduler's
// adaptive percentage picks at 5,000), a pass over every node's labels as default topology
// spreading makes one, and a pass over the labels of every pod on every node. Each figure is
// the best of five rounds; the work is the same in every variant, only the layout differs.
func probeLayout(b *testing.B, variant string, sched *scheduler.Scheduler, pod *corev1.Pod) {
	if !*benchProbe {
		return
	}
	fw := sched.Profiles[corev1.DefaultSchedulerName]
	all, err := fw.SnapshotSharedLister().NodeInfos().List()
	if err != nil {
		b.Fatal(err)
	}
	p := pod.DeepCopy()
	p.Name, p.UID, p.Spec.NodeName = "probe", types.UID("probe"), ""
	candidates := all[:min(500, len(all))]
	ctx := context.Background()
	best := func(rounds, n int, f func()) time.Duration {
		var d time.Duration
		for range rounds {
			start := time.Now()
			for range n {
				f()
			}
			if e := time.Since(start) / time.Duration(n); d == 0 || e < d {
				d = e
			}
		}
		return d
	}
	scoring := best(5, 20, func() {
		st := framework.NewCycleState()
		if _, s, _ := fw.RunPreFilterPlugins(ctx, st, p); !s.IsSuccess() && s.Code() != fwk.Skip {
			b.Fatal(s.AsError())
		}
		if s := fw.RunPreScorePlugins(ctx, st, p, candidates); !s.IsSuccess() && s.Code() != fwk.Skip {
			b.Fatal(s.AsError())
		}
	})
	found := 0
	nodes := best(5, 20, func() {
		for _, ni := range all {
			if ni.Node().Labels[corev1.LabelTopologyZone] != "" || ni.Node().Labels[corev1.LabelHostname] != "" {
				found++
			}
		}
	})
	pods := best(5, 20, func() {
		for _, ni := range all {
			for _, pi := range ni.GetPods() {
				if q := pi.GetPod(); q.Namespace == p.Namespace && q.Labels["app"] != "" {
					found++
				}
			}
		}
	})
	if found == 0 {
		b.Fatal("the probe found no labels")
	}
	b.Logf("probe %s: PreFilter+PreScore %v per pod; every node's labels %v; every pod's labels %v (%d nodes)",
		variant, scoring.Round(time.Microsecond), nodes.Round(time.Microsecond), pods.Round(time.Microsecond), len(all))
}
