// Command kwoksim simulates a Kubernetes cluster offline: the real kube-scheduler and a
// KWOK-compatible stage engine on a virtual clock, reproducible from a seed.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(execute(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
