//go:build !unix

package workloads_test

import (
	"os"
	"time"
)

// processCPU is not measured here; the CPU figures then read +Inf.
func processCPU() time.Duration { return 0 }

// peakRSS is not measured here; the memory figures then read 0.
func peakRSS(*os.ProcessState) float64 { return 0 }
