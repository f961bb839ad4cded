//go:build !unix

package workloads_test

import "time"

// processCPU is not measured here; the CPU figures then read +Inf.
func processCPU() time.Duration { return 0 }
