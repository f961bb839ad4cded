package main

import (
	"slices"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/kwoksim/kwoksim/controlplane"
)

// --kcm-flag and --apiserver-flag set the control plane's settings, each flag for its own
// component; the others keep the real defaults.
func TestControlPlaneFlags(t *testing.T) {
	f := newControlPlaneFlags()
	fl := pflag.NewFlagSet("run", pflag.ContinueOnError)
	f.register(fl)
	err := fl.Parse([]string{"--kcm-flag", "node-monitor-grace-period=40s", "--kcm-flag=--node-eviction-rate=0.5",
		"--apiserver-flag", "default-unreachable-toleration-seconds=60"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.settings()
	if err != nil {
		t.Fatal(err)
	}
	want := controlplane.Defaults()
	want.NodeMonitorGracePeriod, want.NodeEvictionRate, want.DefaultUnreachableTolerationSeconds = 40*time.Second, 0.5, 60
	if *got != want {
		t.Errorf("got %+v\nwant %+v", *got, want)
	}
	// A kube-apiserver flag is not a kube-controller-manager one.
	if err := fl.Parse([]string{"--kcm-flag", "default-unreachable-toleration-seconds=60"}); err == nil {
		t.Error("--kcm-flag took a kube-apiserver flag")
	}
}

// A plan forwards the flags to each of its runs as given.
func TestPlanForwardsControlPlaneFlags(t *testing.T) {
	fl := pflag.NewFlagSet("plan", pflag.ContinueOnError)
	addForwardedFlags(fl)
	if err := fl.Parse([]string{"--kcm-flag", "node-monitor-period=10s", "--apiserver-flag", "default-not-ready-toleration-seconds=30"}); err != nil {
		t.Fatal(err)
	}
	args := forwardArgs(fl)
	for _, want := range []string{"--kcm-flag=node-monitor-period=10s", "--apiserver-flag=default-not-ready-toleration-seconds=30"} {
		if !slices.Contains(args, want) {
			t.Errorf("forwarded %q, want %q among them", args, want)
		}
	}
}
