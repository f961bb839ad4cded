package sim

import (
	"errors"
	"strings"
	"testing"

	utilfeature "k8s.io/apiserver/pkg/util/feature"
)

// Every gate the simulator turns off for determinism has the reason a run that turns it on
// again is warned with.
func TestEveryDeterministicGateSaysWhy(t *testing.T) {
	for name, v := range deterministicGates {
		got := NondeterministicGates(map[string]bool{name: !v})
		if len(got) != 1 || got[0] != name {
			t.Errorf("NondeterministicGates(%s=%v) = %v, want [%s]", name, !v, got, name)
		}
		if NondeterminismReason(name) == "" {
			t.Errorf("%s: no reason", name)
		}
	}
}

// A gate the feature gate refuses is refused by CheckFeatureGates, before any simulator, and
// does not stay behind in the process's feature gate: the next simulator still builds.
func TestRefusedGateLeavesTheProcessUsable(t *testing.T) {
	for _, tc := range []struct {
		gates map[string]bool
		want  string
	}{
		{map[string]bool{"Nope": true}, "unrecognized feature gate: Nope"},
		{map[string]bool{"SchedulerAsyncAPICalls": true}, "SchedulerAsyncAPICalls=true is not supported"},
	} {
		err := CheckFeatureGates(tc.gates)
		var fe *FeatureGateError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckFeatureGates(%v) = %v, want a *FeatureGateError saying %q", tc.gates, err, tc.want)
		}
		if _, err := New(t.Context(), Config{FeatureGates: tc.gates}); !errors.As(err, &fe) {
			t.Errorf("New with %v: %v, want a *FeatureGateError", tc.gates, err)
		}
		s, err := New(t.Context(), Config{FeatureGates: map[string]bool{"OpportunisticBatching": true}})
		if err != nil {
			t.Fatalf("after %v: %v", tc.gates, err)
		}
		if !utilfeature.DefaultFeatureGate.Enabled("OpportunisticBatching") {
			t.Errorf("after %v: OpportunisticBatching=true was not set", tc.gates)
		}
		s.Close()
	}
	// The next simulator without gates puts the deterministic ones back.
	s, err := New(t.Context(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if utilfeature.DefaultFeatureGate.Enabled("OpportunisticBatching") {
		t.Error("OpportunisticBatching stayed on after a simulator without gates")
	}
}

// An admission plugin kwoksim does not run is bad input, naming those it runs.
func TestUnknownAdmissionPluginIsBadInput(t *testing.T) {
	_, err := New(t.Context(), Config{DisableAdmissionPlugins: []string{"Priority", "PodSecurity"}})
	var ae *AdmissionPluginError
	if !errors.As(err, &ae) || ae.Name != "PodSecurity" {
		t.Fatalf("got %v, want an *AdmissionPluginError for PodSecurity", err)
	}
	var bi interface{ BadInput() }
	if !errors.As(err, &bi) {
		t.Error("not marked bad input")
	}
	if !strings.Contains(err.Error(), strings.Join(AdmissionPlugins, ", ")) {
		t.Errorf("%v does not list the plugins kwoksim runs", err)
	}
}
