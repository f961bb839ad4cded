// Package fidelity measures kwoksim against a real cluster. A scenario (testdata/fidelity/NAME:
// scenario.yaml, nodes.yaml, trace.yaml) is run on the real control plane by the recorder
// (`make record-real`, package fidelity/realcluster), which writes what happened as an
// Observation (observed.json); `make test` runs the same scenario in kwoksim, turns its report
// into an Observation of the same shape and compares the two by the scenario's checks.
//
// The package is pure: it reads and writes no cluster and imports no client-go, so the test that
// compares needs nothing but the recorded files.
package fidelity
