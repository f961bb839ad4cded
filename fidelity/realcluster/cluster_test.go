package realcluster

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/kwoksim/kwoksim/fidelity"
	"github.com/kwoksim/kwoksim/workloads/drain"
	"github.com/kwoksim/kwoksim/workloads/trace"
)

// A running binary's flags, both spellings; the last of a repeated flag wins, as with pflag.
func TestParseFlags(t *testing.T) {
	got := parseFlags([]string{"/bin/kube-controller-manager", "--node-monitor-period=25s", "--v", "4",
		"--node-monitor-grace-period=3m20s", "--leader-elect=false", "--node-monitor-period=30s", "--bool-flag", "--x=a=b"})
	want := map[string]string{"node-monitor-period": "30s", "v": "4", "node-monitor-grace-period": "3m20s",
		"leader-elect": "false", "bool-flag": "", "x": "a=b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// Only what kwokctl does not already pass goes into componentsPatches; durations compare by
// value ("200s" is kwokctl's "3m20s").
func TestExtraKCMArgs(t *testing.T) {
	s := &fidelity.Scenario{KCMFlags: map[string]string{
		"node-monitor-period": "25s", "node-monitor-grace-period": "200s",
		"pod-eviction-timeout": "1m", "kube-api-qps": "50",
	}}
	got := extraKCMArgs(s)
	want := []string{"kube-api-qps", "50", "pod-eviction-timeout", "1m"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	s.KCMFlags["node-monitor-period"] = "5s"
	if got := extraKCMArgs(s); len(got) != 6 || got[2] != "node-monitor-period" || got[3] != "5s" {
		t.Errorf("a changed kwokctl default must be passed: got %v", got)
	}
	cfg := kwokctlConfig(want)
	for _, w := range []string{"kind: KwokctlConfiguration", "- name: kube-controller-manager", "- key: kube-api-qps\n    value: \"50\"\n    override: true"} {
		if !strings.Contains(cfg, w) {
			t.Errorf("config lacks %q:\n%s", w, cfg)
		}
	}
}

// A drain event becomes kubectl drain with kubectl's own flag names.
func TestDrainArgs(t *testing.T) {
	ev := &trace.Event{Op: trace.OpDrain, Node: "node-0", Drain: &drain.Options{
		Node: "node-0", Timeout: 90 * time.Second, IgnoreDaemonSets: true, DeleteEmptyDirData: true, GracePeriodSeconds: new(int64)}}
	got := strings.Join(drainArgs(ev, "/w/kc"), " ")
	want := "--kubeconfig /w/kc drain node-0 --timeout=1m30s --ignore-daemonsets --delete-emptydir-data --grace-period=0"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// The suite's scenarios are chosen by name, in the suite's order; an unknown name fails.
func TestChoose(t *testing.T) {
	suite := []*fidelity.Scenario{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	got, err := choose(suite, []string{"c", "a"})
	if err != nil || len(got) != 2 || got[0].Name != "a" || got[1].Name != "c" {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := choose(suite, []string{"nope"}); err == nil {
		t.Error("an unknown scenario must fail")
	}
}

// Every scenario of the suite can be replayed: its operations all have a real counterpart,
// its kinds are known, and its kcm flags are kwokctl's (or can be passed).
func TestSuiteReplayable(t *testing.T) {
	suite, err := fidelity.LoadSuite("../../testdata/fidelity")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range suite {
		evs, err := trace.ReadFile(s.TraceFile())
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			switch ev.Op {
			case trace.OpFail, trace.OpRecover:
				t.Errorf("%s: %s has no real-cluster counterpart", s.Name, ev.Op)
			case trace.OpApply:
				r := &replayer{dyn: dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())}
				for _, o := range ev.Objects {
					if _, err := r.resource(o.Obj.GetObjectKind().GroupVersionKind().Kind, "", ""); err != nil {
						t.Errorf("%s: %v", s.Name, err)
					}
				}
			}
		}
	}
}
