// Command kwoksim simulates a Kubernetes cluster offline: the real kube-scheduler and a
// KWOK-compatible stage engine on a virtual clock, reproducible from a seed. The command
// itself is package app, which a build with out-of-tree scheduler plugins imports.
package main

import (
	"os"

	"github.com/kwoksim/kwoksim/cmd/kwoksim/app"
)

func main() { os.Exit(app.Main()) }
