package stages

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
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

// BenchmarkNodeStatusPatch measures two ways to apply node-initialize's
// rendered status patch to a typed Node and get the typed result, as an
// apiserver does before its strategy and validation: "bytes" is the
// simulator's present way (encode the stored object, strategicpatch on the
// JSON, decode into the type); "tree" merges the render cache's patch tree
// into the object as the stage engine planned it (ApplyPatch, tested against
// strategicpatch), then encodes once for the typed decode. The object's
// conversion for the tree way is outside the timing: the simulator already
// holds it from planning the transition.
func BenchmarkNodeStatusPatch(b *testing.B) {
	var node corev1.Node
	if err := json.Unmarshal([]byte(benchNode), &node); err != nil {
		b.Fatal(err)
	}
	var s *Stage
	for _, d := range Default() {
		if d.Name == "node-initialize" {
			s = d
		}
	}
	patch := func() *Patch {
		obj, err := Object(&node)
		if err != nil {
			b.Fatal(err)
		}
		steps, err := s.Steps(obj, stubEnv{})
		if err != nil {
			b.Fatal(err)
		}
		return steps[0].Patch
	}
	patch() // fill the render cache
	p := patch()
	if p.tree == nil {
		b.Fatal("the patch was not rendered from the cache")
	}
	b.Run("bytes", func(b *testing.B) {
		schema, err := strategicpatch.NewPatchMetaFromStruct(&node)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			cur, err := json.Marshal(&node)
			if err != nil {
				b.Fatal(err)
			}
			out, err := strategicpatch.StrategicMergePatchUsingLookupPatchMeta(cur, p.Data, schema)
			if err != nil {
				b.Fatal(err)
			}
			var next corev1.Node
			if err := json.Unmarshal(out, &next); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tree", func(b *testing.B) {
		objs := make([]map[string]any, 1)
		for b.Loop() {
			b.StopTimer()
			objs[0], _ = Object(&node)
			b.StartTimer()
			out, err := ApplyPatch("Node", objs[0], p)
			if err != nil {
				b.Fatal(err)
			}
			data, err := json.Marshal(out)
			if err != nil {
				b.Fatal(err)
			}
			var next corev1.Node
			if err := json.Unmarshal(data, &next); err != nil {
				b.Fatal(err)
			}
		}
	})
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
