package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&manifest.LoadError{File: "x.yaml", Msg: "bad"}, exitBadInput},
		{fmt.Errorf("wrapped: %w", &workloads.InputError{Err: errors.New("invalid")}), exitBadInput},
		{&sim.StageError{Err: errors.New("template failed")}, exitBadInput},
		{usageError{errors.New("--output must be table or json")}, exitBadInput},
		{errors.New(`unknown command "rnu" for "kwoksim"`), exitBadInput},
		{assertionFailure{failed: 1, total: 2}, exitAssertion},
		{&sim.Failure{Msg: "livelock"}, exitSimulationErr},
		// A limit reached while creating the manifests' objects is the simulation's, not the file's.
		{&workloads.InputError{Err: &sim.Failure{Msg: "object limit reached"}}, exitSimulationErr},
		{errors.New("something else broke"), exitSimulationErr},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
