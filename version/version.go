// Package version says which kwoksim this is: its version and commit, stamped at build time
// (`make build`, `make dist`, the Dockerfile pass them with -ldflags -X), and the Kubernetes
// and Go it was built with, read from the binary's own build information.
//
// It is pure (no client, no scheduler), so the analysis packages may show it in reports.
package version

import (
	"runtime"
	"runtime/debug"
)

// Stamped at build time:
//
//	go build -ldflags "-X github.com/kwoksim/kwoksim/version.version=v0.3.0 -X github.com/kwoksim/kwoksim/version.commit=abc1234"
//
// Without stamping, Get falls back to what the Go toolchain recorded (the module version of a
// `go install`, the VCS revision of a build inside a git checkout).
var (
	version = ""
	commit  = ""
)

// kubernetesModule is the module whose version is the scheduler's and the controllers'.
const kubernetesModule = "k8s.io/kubernetes"

// Info is what `kwoksim version` prints and what a report records.
type Info struct {
	// Version is the release (v0.3.0), or "dev" for an unstamped build.
	Version string `json:"version"`
	// Commit is the git revision the binary was built from ("" when unknown); a "-dirty"
	// suffix says the work tree had changes.
	Commit string `json:"commit,omitempty"`
	// Kubernetes is the version of k8s.io/kubernetes compiled in: the kube-scheduler and the
	// controllers' code kwoksim runs.
	Kubernetes string `json:"kubernetes"`
	// Go is the toolchain that built the binary.
	Go string `json:"go"`
}

// Get returns the binary's Info.
func Get() Info {
	info := Info{Version: version, Commit: commit, Kubernetes: "unknown", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		for _, dep := range bi.Deps {
			if dep.Path == kubernetesModule {
				info.Kubernetes = dep.Version
			}
		}
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		if info.Commit == "" {
			info.Commit = vcsRevision(bi.Settings)
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	return info
}

// vcsRevision is the revision `go build` recorded in a git checkout (-buildvcs), with
// "-dirty" when the tree was modified.
func vcsRevision(settings []debug.BuildSetting) string {
	var rev string
	var dirty bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "-dirty"
	}
	return rev
}
