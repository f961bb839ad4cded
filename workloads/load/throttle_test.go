package load

import (
	"slices"
	"testing"
)

// throttle is max-min fairness with weights: the node's CPU in proportion to the pods' shares,
// no pod getting more than it wants, what one leaves going to the others.
func TestThrottle(t *testing.T) {
	for _, c := range []struct {
		name     string
		capacity int64
		wants    []int64
		weights  []uint64
		want     []int64
	}{
		{"fits: everyone gets what it wants", 4000, []int64{1000, 2000, 500}, []uint64{512, 512, 512}, []int64{1000, 2000, 500}},
		// Four pods of 500m requests (512 shares) wanting 1500m each on a 4-CPU node: 1000m each.
		{"equal weights, all contended", 4000, []int64{1500, 1500, 1500, 1500}, []uint64{512, 512, 512, 512}, []int64{1000, 1000, 1000, 1000}},
		// One wants 400m, below its fair 1333m: it gets it, the two others share 3600m.
		{"one content, others share the rest", 4000, []int64{400, 3000, 3000}, []uint64{512, 512, 512}, []int64{400, 1800, 1800}},
		// Weights 1024 and 2048 (1 and 2 CPU requested): 1/3 and 2/3 of 3000m.
		{"weights by requests", 3000, []int64{5000, 5000}, []uint64{1024, 2048}, []int64{1000, 2000}},
		// Integer division drops the remainder: 1000/3 each.
		{"remainder dropped", 1000, []int64{1000, 1000, 1000}, []uint64{2, 2, 2}, []int64{333, 333, 333}},
		{"idle pods take nothing", 1000, []int64{0, 2000}, []uint64{512, 512}, []int64{0, 1000}},
	} {
		got := throttle(c.capacity, c.wants, c.weights)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		var sum int64
		for _, g := range got {
			sum += g
		}
		if sum > c.capacity {
			t.Errorf("%s: %d given out of %d", c.name, sum, c.capacity)
		}
	}
}

// MilliCPUToShares (pkg/kubelet/cm/helpers_linux.go): 1024 per CPU, 2 at least.
func TestCPUShares(t *testing.T) {
	for milli, want := range map[int64]uint64{0: 2, 1: 2, 500: 512, 1000: 1024, 2500: 2560} {
		if got := cpuShares(milli); got != want {
			t.Errorf("cpuShares(%d) = %d, want %d", milli, got, want)
		}
	}
}
