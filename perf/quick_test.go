package perf

import (
	"context"
	"testing"
)

func TestQuick(t *testing.T) {
	for _, area := range []string{"misc", "affinity", "topology_spreading", "default_preemption"} {
		cfg, err := Load("../testdata/schedulerperf/" + area + "/performance-config.yaml")
		if err != nil {
			t.Fatal(err)
		}
		rs, err := Run(context.Background(), cfg, Options{Seed: 1, Labels: "integration-test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			t.Logf("%s/%s notrun=%q err=%q virt=%.3f wall=%.3f notes=%v", r.TestCase, r.Workload, r.NotRun, r.Error, r.VirtualSeconds, r.WallSeconds, r.Notes)
			for _, op := range r.Ops {
				t.Logf("   op %d %s pods=%d sched=%d att=%v overall=%.0f", op.Index, op.Name, op.Pods, op.Scheduled, op.Attempts, op.OverallThroughput)
			}
		}
	}
}
