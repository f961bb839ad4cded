package provisioning

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const driver = "ebs.csi.example.com"

func zonalNode(name, zone string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}}
	if zone != "" {
		n.Labels[ZoneLabel] = zone
	}
	return n
}

func csiNode(name string, keys ...string) *storagev1.CSINode {
	return &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: storagev1.CSINodeSpec{
		Drivers: []storagev1.CSINodeDriver{{Name: driver, NodeID: name, TopologyKeys: keys}},
	}}
}

// threeZones are nodes a, b, c in zones z1, z2, z3, sorted by name.
var threeZones = []*corev1.Node{zonalNode("a", "z1"), zonalNode("b", "z2"), zonalNode("c", "z3")}

func affinity(key, value string) *corev1.VolumeNodeAffinity {
	return &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: []string{value}}},
	}}}}
}

func allowedZones(zones ...string) []corev1.TopologySelectorTerm {
	return []corev1.TopologySelectorTerm{{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{{Key: ZoneLabel, Values: zones}}}}
}

func TestNodeAffinity(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      Input
		want    *corev1.VolumeNodeAffinity
		wantErr string
	}{
		{
			name: "delayed binding without CSINodes takes the selected node's zone",
			in:   Input{Driver: driver, ClaimName: "data", SelectedNode: "b", Nodes: threeZones},
			want: affinity(ZoneLabel, "z2"),
		},
		{
			name: "delayed binding with the driver's keys from the selected node's CSINode",
			in: Input{Driver: driver, ClaimName: "data", SelectedNode: "c", Nodes: threeZones,
				CSINodes: []*storagev1.CSINode{csiNode("a", "kubernetes.io/hostname"), csiNode("c", "kubernetes.io/hostname")}},
			want: affinity("kubernetes.io/hostname", "c"),
		},
		{
			name: "a driver registered without keys has no topology",
			in: Input{Driver: driver, ClaimName: "data", SelectedNode: "a", Nodes: threeZones,
				CSINodes: []*storagev1.CSINode{csiNode("a")}},
		},
		{
			name: "nodes without a zone and no CSINode: no topology",
			in:   Input{Driver: driver, ClaimName: "data", SelectedNode: "x", Nodes: []*corev1.Node{zonalNode("x", "")}},
		},
		{
			name: "the driver registered elsewhere but not on the selected node's CSINode",
			in: Input{Driver: driver, ClaimName: "data", SelectedNode: "b", Nodes: threeZones,
				CSINodes: []*storagev1.CSINode{csiNode("a", ZoneLabel), {ObjectMeta: metav1.ObjectMeta{Name: "b"}}}},
			wantErr: "error generating accessibility requirements: no topology key found for node b",
		},
		{
			name: "the selected node has no CSINode while others list the driver",
			in: Input{Driver: driver, ClaimName: "data", SelectedNode: "b", Nodes: threeZones,
				CSINodes: []*storagev1.CSINode{csiNode("a", ZoneLabel)}},
			wantErr: `failed to get selected CSINode b: csinode.storage.k8s.io "b" not found`,
		},
		{
			name: "the selected node lacks a key its CSINode names",
			in: Input{Driver: driver, ClaimName: "data", SelectedNode: "b",
				Nodes:    []*corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "b", Labels: map[string]string{"k": "v"}}}},
				CSINodes: []*storagev1.CSINode{csiNode("b", ZoneLabel)}},
			wantErr: "error generating accessibility requirements: topology labels from selected node map[k:v] does not match topology keys from CSINode [topology.kubernetes.io/zone]",
		},
		{
			name: "a selected node outside the class's allowed topologies",
			in: Input{Driver: driver, ClaimName: "data", SelectedNode: "a", Nodes: threeZones,
				AllowedTopologies: allowedZones("z2", "z3")},
			wantErr: `error generating accessibility requirements: topology [{topology.kubernetes.io/zone z1}] from selected node "a" is not in requisite: [[{topology.kubernetes.io/zone z2}] [{topology.kubernetes.io/zone z3}]]`,
		},
		{
			name: "immediate binding with one allowed zone",
			in:   Input{Driver: driver, ClaimName: "data", Nodes: threeZones, AllowedTopologies: allowedZones("z3")},
			want: affinity(ZoneLabel, "z3"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NodeAffinity(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Immediate binding spreads a StatefulSet's volumes round the zones: the claims
// <claim>-<set>-<ordinal> hash the set's name and are offset by the ordinal
// (getPVCNameHashAndIndexOffset), so three consecutive ordinals land in the three zones, each
// the next one in zone order after the previous; a claim of another set member's other
// template (same set, same ordinal) lands with it. Within allowedTopologies only allowed zones.
func TestImmediateBindingSpreadsAStatefulSetRoundTheZones(t *testing.T) {
	zoneOf := func(claim string, allowed []corev1.TopologySelectorTerm) string {
		t.Helper()
		a, err := NodeAffinity(Input{Driver: driver, ClaimName: claim, Nodes: threeZones, AllowedTopologies: allowed})
		if err != nil || a == nil {
			t.Fatalf("%s: %v, %v", claim, a, err)
		}
		return a.Required.NodeSelectorTerms[0].MatchExpressions[0].Values[0]
	}
	next := map[string]string{"z1": "z2", "z2": "z3", "z3": "z1"}
	z0, z1, z2 := zoneOf("data-web-0", nil), zoneOf("data-web-1", nil), zoneOf("data-web-2", nil)
	if next[z0] != z1 || next[z1] != z2 {
		t.Errorf("data-web-0..2 in %s, %s, %s: want consecutive zones", z0, z1, z2)
	}
	if z := zoneOf("logs-web-1", nil); z != z1 {
		t.Errorf("logs-web-1 in %s, data-web-1 in %s: want the same zone", z, z1)
	}
	allowed := allowedZones("z1", "z3")
	seen := map[string]bool{}
	for _, c := range []string{"data-web-0", "data-web-1", "data-web-2", "data-web-3"} {
		z := zoneOf(c, allowed)
		if z == "z2" {
			t.Errorf("%s in z2, outside allowedTopologies", c)
		}
		seen[z] = true
	}
	if !seen["z1"] || !seen["z3"] {
		t.Errorf("data-web-0..3 within z1, z3 used only %v", seen)
	}
}
