package load

import (
	"fmt"
	"testing"
	"time"

	"github.com/kwoksim/kwoksim/analysis"
)

// putStep: one step per instant, no step for no change, and changes that cancel out within
// an instant leave no step.
func Test_putStep(t *testing.T) {
	st := func(at time.Duration, cpu int64) workloadStep {
		return workloadStep{UsageStep: analysis.UsageStep{At: at, CPU: cpu}}
	}
	var s []workloadStep
	for _, x := range []workloadStep{st(0, 0), st(0, 5), st(1, 5), st(2, 7), st(2, 9), st(3, 9), st(4, 1), st(4, 9)} {
		s = putStep(s, x)
	}
	want := []workloadStep{st(0, 5), st(2, 9)}
	if fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("steps %v, want %v", s, want)
	}
}

// share splits exactly; containerShare splits in proportion to requests without overflow.
func Test_share(t *testing.T) {
	var sum int64
	for i := range int64(7) {
		sum += share(100, 7, i)
	}
	if sum != 100 || share(100, 7, 0) != 15 || share(100, 7, 2) != 14 || share(5, 0, 0) != 0 {
		t.Errorf("share: sum %d, first %d, third %d", sum, share(100, 7, 0), share(100, 7, 2))
	}
	// 1 TiB in milli-bytes times a 1 TiB request passes 64 bits.
	const tib = int64(1) << 40
	cs := []container{{name: "a", req: [nres]int64{0, tib}}, {name: "b", req: [nres]int64{0, tib}}, {name: "c"}}
	a, _ := containerShare(cs, memory, "a", 1000*tib+1)
	b, _ := containerShare(cs, memory, "b", 1000*tib+1)
	c, ok := containerShare(cs, memory, "c", 1000*tib+1)
	if a != 500*tib+1 || b != 500*tib || c != 0 || !ok {
		t.Errorf("containerShare: %d %d %d %v", a, b, c, ok)
	}
	if _, ok := containerShare(cs, memory, "d", 1); ok {
		t.Error("a missing container has a share")
	}
}
