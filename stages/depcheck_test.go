package stages

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies fences the engine's imports: it must stay a pure core
// (no clientsets, no scheduler, no KWOK runtime code with its global rand and
// wall clock); the simulator does the I/O.
func TestDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{
		"k8s.io/client-go/kubernetes",
		"k8s.io/client-go/dynamic",
		"k8s.io/kubernetes/pkg/scheduler",
		"sigs.k8s.io/kwok/pkg/utils/lifecycle",
		"sigs.k8s.io/kwok/pkg/utils/gotpl",
		"sigs.k8s.io/kwok/pkg/kwok",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("stages depends on %s", dep)
			}
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
