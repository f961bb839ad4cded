package stages

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// fencedPackages are the pure packages: the clock, the stage engine, the provisioner's
// topology rule, the NodePool input, the analysis (with its subpackages) and the fidelity comparison (not its recorder, fidelity/realcluster) import no client, no scheduler and no KWOK runtime code; the simulator does the
// I/O (docs/design.md, "Packages and layering"). "/..." covers a package and its subpackages.
var fencedPackages = []string{
	"github.com/kwoksim/kwoksim/clock",
	"github.com/kwoksim/kwoksim/stages",
	"github.com/kwoksim/kwoksim/provisioning",
	"github.com/kwoksim/kwoksim/autoscaling/...",
	"github.com/kwoksim/kwoksim/analysis/...",
	"github.com/kwoksim/kwoksim/fidelity",
	"github.com/kwoksim/kwoksim/version",
}

// mustBeFenced are packages the patterns above must keep covering, so that a rename does not
// drop one from the fence silently.
var mustBeFenced = []string{
	"github.com/kwoksim/kwoksim/clock",
	"github.com/kwoksim/kwoksim/stages",
	"github.com/kwoksim/kwoksim/provisioning",
	"github.com/kwoksim/kwoksim/autoscaling",
	"github.com/kwoksim/kwoksim/autoscaling/hpa",
	"github.com/kwoksim/kwoksim/analysis",
	"github.com/kwoksim/kwoksim/analysis/capacity",
	"github.com/kwoksim/kwoksim/analysis/htmlreport",
	"github.com/kwoksim/kwoksim/analysis/plots",
	"github.com/kwoksim/kwoksim/analysis/sweep",
	"github.com/kwoksim/kwoksim/fidelity",
	"github.com/kwoksim/kwoksim/version",
}

// forbiddenDeps are import path prefixes no fenced package may depend on, even indirectly.
var forbiddenDeps = []string{
	"k8s.io/client-go", // clientsets, informers, tools/cache, testing, dynamic: all of it
	"k8s.io/kubernetes/pkg/scheduler",
	"k8s.io/kube-scheduler",
	// KWOK's runtime: global math/rand and wall-clock templates.
	"sigs.k8s.io/kwok/pkg/kwok",
	"sigs.k8s.io/kwok/pkg/utils/lifecycle",
	"sigs.k8s.io/kwok/pkg/utils/gotpl",
}

// TestDependencies fences the pure packages' imports. For each fenced package, go list's .Deps
// is every package it depends on, directly or not: what `go list -deps` prints for it.
func TestDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	args := append([]string{"list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}"}, fencedPackages...)
	out, err := exec.Command(goBin, args...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var listed []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg := fields[0]
		listed = append(listed, pkg)
		for _, f := range forbiddenDeps {
			var hits []string
			for _, dep := range fields[1:] {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					hits = append(hits, dep)
				}
			}
			if len(hits) > 0 {
				t.Errorf("%s depends on %s: %d package(s), e.g. %s; find the import with go list -deps -f '{{.ImportPath}} {{.Imports}}' %s",
					pkg, f, len(hits), strings.Join(hits[:min(len(hits), 3)], ", "), pkg)
			}
		}
	}
	for _, p := range mustBeFenced {
		if !slices.Contains(listed, p) {
			t.Errorf("%s is not fenced: go list did not list it for %v", p, fencedPackages)
		}
	}
}

// TestNoFileIO keeps the engine from reading files itself: stage files are read, and cut into
// documents, by package workloads/input, which hands them to ParseDocument.
func TestNoFileIO(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	out, err := exec.Command(goBin, "list", "-f", `{{join .Imports " "}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, imp := range strings.Fields(string(out)) {
		switch imp {
		case "os", "os/exec", "io/ioutil", "path/filepath", "net", "net/http":
			t.Errorf("stages imports %s", imp)
		}
	}
}
