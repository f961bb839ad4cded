package autoscaling

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// FuzzDecode holds the NodePool decoder to its contract on any document: no panic; a refusal
// is an *Error (a bad input, exit 2) listing at least one problem; an accepted pool keeps its invariants (0 <= min <= max, max >= 1,
// shapes named uniquely with cpu and memory, prices >= 0, delay min <= max) and gives, for
// each shape, a Node with a valid name carrying the shape's allocatable. Seeds: the good pool
// of the tests, testdata/inputs/nodepool.yaml, the scenario's pool and every bad pool.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(good))
	paths := []string{"../testdata/inputs/nodepool.yaml", "../testdata/scenarios/autoscaling/nodepool.yaml"}
	bad, _ := filepath.Glob("../testdata/bad/nodepool/*.yaml")
	for _, p := range append(paths, bad...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Decode(doc)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("a refusal that is not an *Error (bad input): %T %v", err, err)
			}
			if len(e.Fields) == 0 {
				t.Fatalf("an *Error with no problem listed: %v", err)
			}
			return
		}
		s := p.Spec
		if s.Min < 0 || s.Max < 1 || s.Max < s.Min || len(s.Shapes) == 0 || s.Provisioning.Delay.Min > s.Provisioning.Delay.Max {
			t.Fatalf("accepted a pool that breaks its invariants: %+v", s)
		}
		seen := map[string]bool{}
		for _, sh := range s.Shapes {
			if seen[sh.Name] {
				t.Fatalf("accepted two shapes named %q", sh.Name)
			}
			seen[sh.Name] = true
			if sh.PricePerHour < 0 || sh.Capacity.Cpu().IsZero() && sh.Capacity.Memory().IsZero() && len(sh.Capacity) == 0 {
				t.Fatalf("accepted shape %+v", sh)
			}
			n, err := p.Node(sh.Name, 3)
			if err != nil {
				t.Fatalf("accepted shape %q gives no Node: %v", sh.Name, err)
			}
			if msgs := validation.IsDNS1123Subdomain(n.Name); len(msgs) > 0 {
				t.Fatalf("node name %q is not valid: %v", n.Name, msgs)
			}
			if !n.Status.Allocatable.Cpu().Equal(*sh.Allocatable.Cpu()) {
				t.Fatalf("node of shape %q has allocatable cpu %v, want %v", sh.Name, n.Status.Allocatable.Cpu(), sh.Allocatable.Cpu())
			}
		}
	})
}
