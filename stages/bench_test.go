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

const benchNode = `{"apiVersion": "v1", "kind": "Node",
  "metadata": {"name": "node-00001", "uid": "u", "creationTimestamp": "2006-01-02T15:04:05Z",
    "labels": {"kubernetes.io/hostname": "node-00001"}},
  "spec": {},
  "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
    "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"}}}`

// BenchmarkNodeInitialize measures one node transition with the default
// stages: match, pick, delay and render of node-initialize.
func BenchmarkNodeInitialize(b *testing.B) {
	stages := Default()
	obj := mustObjectB(b, benchNode)
	rng := rand.New(rand.NewPCG(1, 0))
	for b.Loop() {
		matched, err := Match(stages, "Node", obj)
		if err != nil {
			b.Fatal(err)
		}
		s, err := Pick(matched, obj, rng)
		if err != nil || s == nil || s.Name != "node-initialize" {
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
