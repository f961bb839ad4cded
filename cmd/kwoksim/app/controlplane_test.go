package app

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

// --pacing instant turns the controllers' limiter off (a negative --kube-api-qps, as client-go
// makes no limiter for it) and the scheduler's; real keeps --kcm-flag's values; anything else
// is a usage error. A plan forwards it.
func TestPacingFlag(t *testing.T) {
	for _, c := range []struct {
		args     []string
		qps      float32
		unpaced  bool
		badUsage bool
	}{
		{nil, 20, false, false},
		{[]string{"--kcm-flag", "kube-api-qps=100"}, 100, false, false},
		{[]string{"--pacing", "instant", "--kcm-flag", "kube-api-qps=100"}, -1, true, false},
		{[]string{"--pacing", "fast"}, 0, false, true},
	} {
		f := newControlPlaneFlags()
		fl := pflag.NewFlagSet("run", pflag.ContinueOnError)
		f.register(fl)
		if err := fl.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		got, err := f.settings()
		if c.badUsage {
			if _, ok := err.(usageError); !ok {
				t.Errorf("%v: got %v, want a usage error", c.args, err)
			}
			continue
		}
		if err != nil || got.KubeAPIQPS != c.qps || f.unpacedScheduler() != c.unpaced {
			t.Errorf("%v: qps %v, unpaced scheduler %v, err %v; want %v, %v", c.args, got.KubeAPIQPS, f.unpacedScheduler(), err, c.qps, c.unpaced)
		}
	}
	fl := pflag.NewFlagSet("plan", pflag.ContinueOnError)
	addForwardedFlags(fl)
	if err := fl.Parse([]string{"--pacing", "instant"}); err != nil {
		t.Fatal(err)
	}
	if args := forwardArgs(fl); !slices.Contains(args, "--pacing=instant") {
		t.Errorf("forwarded %q, want --pacing=instant among them", args)
	}
}

// End to end: the seed's Deployment scaled to 100 pods (on a node of room for 110) is created
// over (100-30)/20 = 3.5 s or more by default, all at t=0 with --pacing instant.
func TestPacingEndToEnd(t *testing.T) {
	last := func(args ...string) float64 {
		t.Helper()
		code, out, errOut := kwoksim(t, append([]string{"run", "--nodes", seedNodes, "--workload", seedWorkload, "--scale-replicas", "10", "-o", "json"}, args...)...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		r := decodeReport(t, out)
		if len(r.Pods) != 100 {
			t.Fatalf("%d pods, want 100", len(r.Pods))
		}
		var at float64
		for _, p := range r.Pods {
			if p.CreatedAt != nil {
				at = max(at, *p.CreatedAt)
			}
		}
		return at
	}
	if got := last(); got < 3.5 {
		t.Errorf("paced: the last pod created at %v s, want at least 3.5", got)
	}
	if got := last("--pacing", "instant"); got != 0 {
		t.Errorf("--pacing instant: the last pod created at %v s, want 0", got)
	}
}
