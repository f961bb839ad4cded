// Package realcluster records the fidelity suite on a real control plane: for each scenario it
// starts a fresh KWOK cluster (etcd, kube-apiserver, kube-controller-manager and kube-scheduler
// v1.37.2, the kwok controller v0.8.0, built by ../shared/realcluster/build.sh) with the
// scenario's stage set, creates its nodes, carries out its trace on the wall clock and writes
// what the watches saw as testdata/fidelity/NAME/observed.json. It is run by `make record-real`,
// never by `make test`: it needs the built binaries and takes wall time.
package realcluster
