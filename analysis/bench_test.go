package analysis

import (
	"fmt"
	"io"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// benchObservation is the shape of the 5,000 × 10,000 benchmark run: nodes Ready at 0, pods
// created over 100 s, each created, bound and Running once (3 changes per pod), a day
// long so the default series has 721 points.
func benchObservation(nodes, pods int) Observation {
	o := Observation{Seed: 1, Elapsed: 24 * time.Hour}
	alloc := allocatable("cpu", "32", "memory", "256Gi", "pods", "110")
	ready := []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	for i := 0; i < nodes; i++ {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%05d", i)},
			Status: corev1.NodeStatus{Allocatable: alloc, Conditions: ready}}
		o.Nodes = append(o.Nodes, n)
		o.History.Nodes = append(o.History.Nodes, NodeChange{Name: n.Name, Allocatable: alloc}, NodeChange{Name: n.Name, Ready: true})
	}
	for i := 0; i < pods; i++ {
		at := time.Duration(i) * 10 * time.Millisecond
		p := podOn(fmt.Sprintf("bench-%05d", i), o.Nodes[i%nodes].Name, corev1.PodRunning, "100m")
		p.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory] = resource.MustParse("128Mi")
		o.Pods = append(o.Pods, PodRecord{Pod: p, CreatedAt: dur(at), ScheduledAt: dur(at), RunningAt: dur(at + time.Second), Attempts: 1})
		idx := int32(i)
		o.History.Pods = append(o.History.Pods,
			PodChange{At: at, Pod: idx, Phase: corev1.PodPending},
			PodChange{At: at, Pod: idx, Phase: corev1.PodPending, Bound: true},
			PodChange{At: at + time.Second, Pod: idx, Phase: corev1.PodRunning, Bound: true})
	}
	// The log is in time order, as the recorder keeps it.
	return o
}

// What the outputs cost on the 5,000 × 10,000 benchmark run's report: Build runs in every
// run; the table is the default output; JSON, YAML and CSV are what -o json|yaml, --report
// and --csv add.
func BenchmarkOutputs(b *testing.B) {
	o := benchObservation(5000, 10000)
	r := Build(o)
	dir := b.TempDir()
	for _, bc := range []struct {
		name string
		run  func() error
	}{
		{"Build", func() error { Build(o); return nil }},
		{"Timeseries", func() error { timeseries(o); return nil }},
		{"Table", func() error { return WriteTable(io.Discard, r) }},
		{"JSON", func() error { return WriteJSON(io.Discard, r) }},
		{"YAML", func() error { return WriteYAML(io.Discard, r) }},
		{"CSV", func() error { return WriteCSV(dir, r) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := bc.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
