package analysis

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Build sorts the workloads by kind, namespace and name and the nodes by name, keeps two
// incarnations of one name in creation order, writes a restored object's createdAt as null
// and leaves deletedAt out while the object exists; the result validates against the schema.
func TestBuildSizesAndNodeHistory(t *testing.T) {
	o := Observation{Elapsed: time.Minute,
		WorkloadSizes: []WorkloadSizeRecord{
			{Kind: "ReplicaSet", Namespace: "b", Name: "web-1", Owner: "Deployment/web", CreatedAt: dur(0), DeletedAt: dur(10 * time.Second),
				Sizes: []WorkloadSize{{At: 0, Seq: 4, Replicas: 3}}},
			{Kind: "Deployment", Namespace: "b", Name: "web", Sizes: []WorkloadSize{{At: 0, Seq: 2, Replicas: 3}}},
			{Kind: "ReplicaSet", Namespace: "a", Name: "web-1", CreatedAt: dur(0), Sizes: []WorkloadSize{{At: 0, Seq: 3, Replicas: 1}}},
			{Kind: "ReplicaSet", Namespace: "b", Name: "web-1", Owner: "Deployment/web", CreatedAt: dur(20 * time.Second),
				Sizes: []WorkloadSize{{At: 20 * time.Second, Seq: 9, Replicas: 3}, {At: 20 * time.Second, Seq: 12, Replicas: 3, Current: 3, Ready: 2}}},
		},
		NodeHistory: []NodeHistoryRecord{
			{Name: "n2", CreatedAt: dur(0), Changes: []NodeStateChange{{At: 0, Seq: 1, Ready: "True"}}},
			{Name: "n1", Changes: []NodeStateChange{{At: 0, Seq: 5, Ready: "Unknown", Taints: []string{"node.kubernetes.io/unreachable:NoExecute"}}}},
		},
	}
	r := Build(o)
	var got []string
	for _, w := range r.WorkloadSizes {
		got = append(got, w.Kind+" "+w.Namespace+"/"+w.Name+" "+w.Owner)
	}
	want := []string{"Deployment b/web ", "ReplicaSet a/web-1 ", "ReplicaSet b/web-1 Deployment/web", "ReplicaSet b/web-1 Deployment/web"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("order:\n got %q\nwant %q", got, want)
	}
	if w := r.WorkloadSizes[2]; w.DeletedAt == nil || *w.DeletedAt != 10 {
		t.Errorf("first incarnation first: %+v", w)
	}
	if w := r.WorkloadSizes[3]; w.DeletedAt != nil || len(w.Sizes) != 2 || w.Sizes[1] != (WorkloadSizeStep{At: 20, Seq: 12, Replicas: 3, Current: 3, Ready: 2}) {
		t.Errorf("second incarnation: %+v", w)
	}
	if r.NodeHistory[0].Name != "n1" || r.NodeHistory[0].CreatedAt != nil || r.NodeHistory[1].Changes[0].Taints == nil {
		t.Errorf("nodes: %+v (taints must be [] rather than null)", r.NodeHistory)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"createdAt": null`, `"taints": []`} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("JSON lacks %s", s)
		}
	}
	if err := validate(compileSchema(t), buf.Bytes()); err != nil {
		t.Errorf("schema: %v", err)
	}
	// Without any, both are left out of the JSON, and assertions see empty lists.
	empty := Build(Observation{Elapsed: time.Minute})
	buf.Reset()
	if err := WriteJSON(&buf, empty); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "workloadSizes") || strings.Contains(buf.String(), "nodeHistory") {
		t.Error("empty lists written")
	}
	if res := checkOne(t, "size(workloadSizes) == 0 && size(nodeHistory) == 0", empty); !res.Passed {
		t.Errorf("assertion on an empty run: %+v", res)
	}
}
