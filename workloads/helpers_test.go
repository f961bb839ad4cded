package workloads

import (
	"context"
	"testing"

	"github.com/kwoksim/kwoksim/sim"
)

// testSim is a simulator with the workload controllers installed, closed when the test ends.
func testSim(t *testing.T, cfg sim.Config) *sim.Simulator {
	t.Helper()
	s, err := sim.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	Install(s)
	return s
}

// mustGet returns a stored object of a kind in the default namespace (or a cluster-scoped one).
func mustGet[T any](t *testing.T, s *sim.Simulator, kind, name string) T {
	t.Helper()
	k, err := sim.KindNamed(kind)
	if err != nil {
		t.Fatal(err)
	}
	ns := "default"
	if !k.Namespaced {
		ns = ""
	}
	obj, err := s.API().Get(k, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(T)
}
