package trace

import (
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// The load operation: strictly decoded, namespace default, quantities as strings or numbers,
// at least one of cpu and memory, a kind whose selector names its pods.
func TestLoadEvents(t *testing.T) {
	src := manifest.Source{File: "t.jsonl", Line: 3}
	for _, tc := range []struct {
		body, target, cpu, memory string
	}{
		{`{"at":"1m","load":{"kind":"Deployment","name":"web","cpu":"1500m"}}`, "Deployment default/web", "1500m", ""},
		{`{"at":"1m","load":{"kind":"StatefulSet","namespace":"db","name":"pg","memory":"2Gi"}}`, "StatefulSet db/pg", "", "2Gi"},
		{`{"at":"1m","load":{"kind":"DaemonSet","name":"agent","cpu":2,"memory":"0"}}`, "DaemonSet default/agent", "2", "0"},
		{`{"at":"1m","load":{"kind":"ReplicationController","name":"rc","cpu":0.5,"memory":null}}`, "ReplicationController default/rc", "500m", ""},
	} {
		ev, err := decodeEvent(src, []byte(tc.body))
		if err != nil {
			t.Errorf("%s: %v", tc.body, err)
			continue
		}
		str := func(q interface{ String() string }, isNil bool) string {
			if isNil {
				return ""
			}
			return q.String()
		}
		if ev.Op != OpLoad || ev.Target.String() != tc.target || str(ev.CPU, ev.CPU == nil) != tc.cpu || str(ev.Memory, ev.Memory == nil) != tc.memory {
			t.Errorf("%s: %s %s cpu %v memory %v", tc.body, ev.Op, ev.Target, ev.CPU, ev.Memory)
		}
	}
	for _, tc := range []struct{ body, want string }{
		{`{"at":"1m","load":{"kind":"Deployment","name":"web","cpu":"x"}}`, `load: cpu: expected a quantity such as "1500m" or "2", got "x"`},
		{`{"at":"1m","load":{"kind":"Deployment","name":"web","memory":"-1Gi"}}`, `load: memory: expected a non-negative quantity, got "-1Gi"`},
		{`{"at":"1m","load":{"kind":"Deployment","name":"web","cpu":-2}}`, `load: cpu: expected a non-negative quantity, got "-2"`},
		{`{"at":"1m","load":{"kind":"Deployment","name":"web","cpu":true}}`, `load: cpu: expected a quantity such as "1500m" or "2", found a boolean`},
		{`{"at":"1m","load":{"kind":"Deployment","name":"web"}}`, "load: expected cpu, memory or both"},
		{`{"at":"1m","load":{"kind":"Job","name":"web","cpu":"1"}}`, `load: kind "Job" is not accepted here; expected one of DaemonSet, Deployment, ReplicaSet, ReplicationController, StatefulSet`},
		{`{"at":"1m","load":{"name":"web","cpu":"1"}}`, "load: missing kind"},
		{`{"at":"1m","load":{"kind":"Deployment","cpu":"1"}}`, "load: missing name"},
		{`{"at":"1m","load":{"kind":"Deployment","name":"web","cpus":"1"}}`, `load: json: unknown field "cpus"`},
	} {
		_, err := decodeEvent(src, []byte(tc.body))
		if err == nil || !strings.HasPrefix(err.Error(), "t.jsonl:3: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant t.jsonl:3: …%s…", tc.body, err, tc.want)
		}
	}
}
