package trace

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kwoksim/kwoksim/workloads/drain"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// The failure and maintenance operations decode with their defaults (drain: kubectl's, but
// ignoreDaemonSets and deleteEmptyDirData true; fail: mode stop) and refuse what kubectl or
// the apiserver would: unknown fields, a missing node or name, a bad mode, a negative grace
// period or timeout, a bad selector.
func TestFailureOperationsDecode(t *testing.T) {
	src := manifest.Source{File: "t.jsonl", Line: 4}
	for _, tc := range []struct{ line, want string }{
		{`{"at":"1s","delete":{"kind":"Pod","name":"p","gracePeriodSeconds":30}}`, "delete Pod default/p grace=30"},
		{`{"at":"1s","delete":{"kind":"Pod","name":"p"}}`, "delete Pod default/p grace=nil"},
		{`{"at":"1s","evict":{"name":"p"}}`, "evict Pod default/p grace=nil"},
		{`{"at":"1s","evict":{"namespace":"shop","name":"p","gracePeriodSeconds":0}}`, "evict Pod shop/p grace=0"},
		{`{"at":"1s","cordon":{"node":"n1"}}`, "cordon n1"},
		{`{"at":"1s","uncordon":{"node":"n1"}}`, "uncordon n1"},
		{`{"at":"1s","recover":{"node":"n1"}}`, "recover n1"},
		{`{"at":"1s","fail":{"node":"n1"}}`, "fail n1 stop"},
		{`{"at":"1s","fail":{"node":"n1","mode":"not-ready"}}`, "fail n1 not-ready"},
		{`{"at":"1s","fail":{"node":"n1","mode":"delete"}}`, "fail n1 delete"},
		{`{"at":"1s","drain":{"node":"n1"}}`, describeDrain(drain.Options{Node: "n1", IgnoreDaemonSets: true, DeleteEmptyDirData: true})},
		{`{"at":"1s","drain":{"node":"n1","timeout":"5m","gracePeriodSeconds":10,"ignoreDaemonSets":false,"deleteEmptyDirData":false,"force":true,"podSelector":"app=web","skipWaitForDeleteTimeout":"1m"}}`,
			describeDrain(drain.Options{Node: "n1", Timeout: 5 * time.Minute, GracePeriodSeconds: ptr(int64(10)), Force: true, PodSelector: "app=web", SkipWaitForDeleteTimeoutSeconds: 60})},
		{`{"at":"1s","drain":{"node":"n1","timeout":90,"skipWaitForDeleteTimeout":20}}`,
			describeDrain(drain.Options{Node: "n1", Timeout: 90 * time.Second, IgnoreDaemonSets: true, DeleteEmptyDirData: true, SkipWaitForDeleteTimeoutSeconds: 20})},
	} {
		ev, err := decodeEvent(src, []byte(tc.line))
		if err != nil {
			t.Errorf("%s: %v", tc.line, err)
			continue
		}
		if got := describeEvent(ev); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.line, got, tc.want)
		}
	}
	for _, tc := range []struct{ line, want string }{
		{`{"at":"1s","delete":{"kind":"Pod","name":"p","gracePeriodSeconds":-1}}`, "delete: gracePeriodSeconds: expected a non-negative integer, got -1"},
		{`{"at":"1s","evict":{"name":"p","gracePeriodSeconds":-5}}`, "evict: gracePeriodSeconds: expected a non-negative integer, got -5"},
		{`{"at":"1s","evict":{"namespace":"x"}}`, "evict: missing name (of the pod)"},
		{`{"at":"1s","evict":{"name":"p","kind":"Pod"}}`, `evict: json: unknown field "kind"`},
		{`{"at":"1s","cordon":{}}`, "cordon: missing node"},
		{`{"at":"1s","uncordon":{"name":"n1"}}`, `uncordon: json: unknown field "name"`},
		{`{"at":"1s","recover":{"node":"n1","mode":"stop"}}`, `recover: json: unknown field "mode"`},
		{`{"at":"1s","fail":{"mode":"stop"}}`, "fail: missing node"},
		{`{"at":"1s","fail":{"node":"n1","mode":"reboot"}}`, `fail: mode: expected stop, not-ready or delete, got "reboot"`},
		{`{"at":"1s","drain":{"timeout":"1m"}}`, "drain: missing node"},
		{`{"at":"1s","drain":{"node":"n1","timeout":"-1m"}}`, `drain: expected a non-negative Go duration such as "90s", got "-1m"`},
		{`{"at":"1s","drain":{"node":"n1","timeout":9223372037}}`, "drain: 9223372037 seconds is past the latest virtual time kwoksim simulates, 876000h0m0s"},
		{`{"at":"1s","drain":{"node":"n1","gracePeriodSeconds":-1}}`, "drain: gracePeriodSeconds: expected a non-negative integer, got -1"},
		{`{"at":"1s","drain":{"node":"n1","podSelector":"app in (a"}}`, "drain: podSelector: "},
		{`{"at":"1s","drain":{"node":"n1","deleteLocalData":true}}`, `drain: json: unknown field "deleteLocalData"`},
		{`{"at":"1s","drain":"n1"}`, "drain: json: cannot unmarshal string"},
	} {
		_, err := decodeEvent(src, []byte(tc.line))
		if err == nil || !strings.HasPrefix(err.Error(), "t.jsonl:4: "+tc.want) {
			t.Errorf("%s:\n got %v\nwant t.jsonl:4: %s…", tc.line, err, tc.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// describeDrain prints the options with the grace period's value, not its address.
func describeDrain(o drain.Options) string {
	g := "nil"
	if o.GracePeriodSeconds != nil {
		g = fmt.Sprint(*o.GracePeriodSeconds)
	}
	o.GracePeriodSeconds = nil
	return fmt.Sprintf("drain %+v grace=%s", o, g)
}

func describeEvent(ev *Event) string {
	switch ev.Op {
	case OpDelete, OpEvict:
		g := "nil"
		if ev.GracePeriodSeconds != nil {
			g = fmt.Sprint(*ev.GracePeriodSeconds)
		}
		return fmt.Sprintf("%s %s grace=%s", ev.Op, ev.Target, g)
	case OpFail:
		return fmt.Sprintf("fail %s %s", ev.Node, ev.FailMode)
	case OpDrain:
		return describeDrain(*ev.Drain)
	}
	return fmt.Sprintf("%s %s", ev.Op, ev.Node)
}
