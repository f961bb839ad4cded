package stages

import (
	"math/rand/v2"
	"testing"
)

const benchPod = `{"apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "p", "namespace": "default", "uid": "u", "creationTimestamp": null},
  "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i", "resources": {}}]},
  "status": {"phase": "Pending"}}`

// BenchmarkPodReady measures one pod transition with the default stages:
// match, pick, delay and render.
func BenchmarkPodReady(b *testing.B) {
	stages := Default()
	var obj map[string]any
	obj = mustObjectB(b, benchPod)
	rng := rand.New(rand.NewPCG(1, 0))
	for b.Loop() {
		matched, err := Match(stages, "Pod", obj)
		if err != nil {
			b.Fatal(err)
		}
		s, err := Pick(matched, obj, rng)
		if err != nil || s == nil {
			b.Fatal(err, s)
		}
		if _, err := s.Delay(obj, kwokNow, rng); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Steps(obj, stubEnv{}); err != nil {
			b.Fatal(err)
		}
	}
}

func mustObjectB(b *testing.B, js string) map[string]any {
	b.Helper()
	m, err := Object(rawJSON(js))
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// rawJSON marshals as itself.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }
