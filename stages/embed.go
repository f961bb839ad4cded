package stages

import (
	"embed"
	"path"
	"slices"
	"sync"
)

// defaultFS holds KWOK's "stage-fast" profile, copied unchanged from KWOK's
// kustomize/stage/{node/fast,node/heartbeat-with-lease,pod/fast}, plus kwoksim's
// pod-run-duration stage (the kwoksim.io/run-duration annotation) and its
// provisioning stages, pvc-provision and pv-delete (a CSI external-provisioner).
//
//go:embed default/*.yaml
var defaultFS embed.FS

// defaultFiles is the order kustomize/stage/fast lists them in, which is the
// order KWOK matches them in; pod-run-duration goes before pod-complete, which
// it outweighs.
var defaultFiles = []string{
	"node-initialize.yaml",
	"node-heartbeat-with-lease.yaml",
	"pod-ready.yaml",
	"pod-run-duration.yaml",
	"pod-complete.yaml",
	"pod-delete.yaml",
	"pvc-provision.yaml",
	"pv-delete.yaml",
}

var defaultStages = sync.OnceValue(func() []*Stage {
	var out []*Stage
	for _, name := range defaultFiles {
		p := path.Join("default", name)
		data, err := defaultFS.ReadFile(p)
		if err != nil {
			panic(err) // the files are compiled in; a test guards them
		}
		stages, err := Parse(data, p)
		if err != nil {
			panic(err)
		}
		out = append(out, stages...)
	}
	return out
})

// Default returns KWOK's "stage-fast" set: node-initialize,
// node-heartbeat-with-lease, pod-ready, pod-complete, pod-delete, with
// kwoksim's pod-run-duration, pvc-provision and pv-delete. Nodes become Ready
// at once and renew their heartbeat every 10 minutes; pods become Running at
// once, Job pods complete, deleted pods go; claims handed to a provisioner get
// their volume at once, released provisioned volumes go. The stages are shared
// (they are immutable); the slice is the caller's.
func Default() []*Stage {
	return slices.Clone(defaultStages())
}
