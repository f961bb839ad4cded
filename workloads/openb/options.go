package openb

import (
	"fmt"
	"strings"
)

// GPUMode is how GPUs are mapped (see the package documentation).
type GPUMode string

const (
	// GPUPooled maps a node's GPUs to one pooled extended resource, kwoksim.io/gpu-milli: a
	// pod's share may be spread over several cards.
	GPUPooled GPUMode = "pooled"
	// GPUDRA maps them to devices (Dynamic Resource Allocation): each card is a device a
	// pod's share must fit on.
	GPUDRA GPUMode = "dra"
)

// GPUModes are the modes, the default first.
var GPUModes = []GPUMode{GPUPooled, GPUDRA}

// Options are the import's choices; the zero value is the default mapping.
type Options struct {
	// GPU is the GPU mapping; "" means GPUPooled.
	GPU GPUMode
}

// ParseGPUMode reads a --gpu value.
func ParseGPUMode(s string) (GPUMode, error) {
	for _, m := range GPUModes {
		if string(m) == s {
			return m, nil
		}
	}
	names := make([]string, len(GPUModes))
	for i, m := range GPUModes {
		names[i] = string(m)
	}
	return "", fmt.Errorf("expected one of %s, got %q", strings.Join(names, ", "), s)
}

func (o Options) dra() bool { return o.GPU == GPUDRA }
