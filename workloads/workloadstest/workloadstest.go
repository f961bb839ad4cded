// Package workloadstest builds simulators with the workload controllers installed, for the
// tests of the controller packages (which cannot import the workloads package from inside).
package workloadstest

import (
	"context"
	"testing"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads"
)

// Sim is a simulator with the workload controllers installed, closed when the test ends.
func Sim(t testing.TB, cfg sim.Config) *sim.Simulator {
	t.Helper()
	s, err := sim.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	workloads.Install(s)
	return s
}

// MustGet returns a stored object of a kind in the default namespace (or a cluster-scoped
// one).
func MustGet[T any](t testing.TB, s *sim.Simulator, kind, name string) T {
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
