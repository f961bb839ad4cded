package provisioning

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
)

// ZoneLabel is the topology key assumed for a driver that no CSINode lists: the common zonal
// block-storage case (a real driver registers its keys in every node's CSINode).
const ZoneLabel = corev1.LabelTopologyZone

// Input is what the provisioner reads to place one claim's volume.
type Input struct {
	// Driver is the CSI driver: the provisioner named by the claim's
	// volume.kubernetes.io/storage-provisioner annotation.
	Driver string
	// ClaimName spreads the volumes of Immediate claims (getPVCNameHashAndIndexOffset).
	ClaimName string
	// AllowedTopologies is the StorageClass's.
	AllowedTopologies []corev1.TopologySelectorTerm
	// SelectedNode is the claim's volume.kubernetes.io/selected-node annotation, set by the
	// scheduler for WaitForFirstConsumer classes; "" for Immediate binding.
	SelectedNode string
	// Nodes and CSINodes are the cluster's, each sorted by name.
	Nodes    []*corev1.Node
	CSINodes []*storagev1.CSINode
}

// topologySegment and topologyTerm are external-provisioner's, so that messages print terms
// as it prints them (%v).
type topologySegment struct {
	Key, Value string
}

type topologyTerm []topologySegment

// NodeAffinity returns the nodeAffinity of the volume provisioned for the claim, nil when the
// volume is not topological, or the error external-provisioner would report (the message of its
// ProvisioningFailed event).
//
// It follows GenerateAccessibilityRequirements (pkg/controller/topology.go) with
// external-provisioner's defaults (--strict-topology=false, --immediate-topology=true, the
// Topology feature on), and then takes the volume to be accessible from the first preferred
// term only, as zonal block-storage drivers create the volume there and report that one
// segment as its accessible topology (GenerateVolumeNodeAffinity). Where kwoksim decides
// itself:
//   - Topology keys: the driver's topologyKeys in a CSINode. An empty list means a driver
//     without topology (no nodeAffinity). When no CSINode lists the driver at all, kwoksim
//     assumes topology.kubernetes.io/zone if a node has that label (for the selected node:
//     if it has it), else no topology; a real provisioner of a topological driver would fail
//     until the driver registers.
//   - Immediate binding takes the keys from the first CSINode, by name, that lists the driver
//     with keys, where upstream shuffles the CSINodes with the global random source.
func NodeAffinity(in Input) (*corev1.VolumeNodeAffinity, error) {
	var (
		term topologyTerm
		err  error
	)
	if in.SelectedNode != "" {
		term, err = delayed(in)
	} else {
		term, err = immediate(in)
	}
	if err != nil || len(term) == 0 {
		return nil, err
	}
	exprs := make([]corev1.NodeSelectorRequirement, 0, len(term))
	for _, s := range term { // sorted by key: upstream ranges over a map here
		exprs = append(exprs, corev1.NodeSelectorRequirement{Key: s.Key, Operator: corev1.NodeSelectorOpIn, Values: []string{s.Value}})
	}
	return &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: exprs}},
	}}, nil
}

// requirementsError is prepareProvision's wrapping of GenerateAccessibilityRequirements' errors
// other than NotFound.
func requirementsError(format string, args ...any) error {
	return fmt.Errorf("error generating accessibility requirements: "+format, args...)
}

// delayed is the WaitForFirstConsumer case: the term of the requisite that the selected node's
// topology contains, the requisite rotated to start there being the preferred list.
func delayed(in Input) (topologyTerm, error) {
	node := findNode(in.Nodes, in.SelectedNode)
	keys, topological, err := selectedNodeKeys(in, node)
	if err != nil || !topological {
		return nil, err
	}
	var labels map[string]string
	if node != nil {
		labels = node.Labels
	}
	selected, missing := extractTopologyTerm(labels, keys)
	if missing {
		return nil, requirementsError("topology labels from selected node %v does not match topology keys from CSINode %v", labels, keys)
	}
	var requisite []topologyTerm
	if len(in.AllowedTopologies) != 0 {
		requisite = flatten(in.AllowedTopologies)
	} else {
		// aggregateTopologies with the selected node's keys: every node with all of them.
		requisite = aggregate(in.Nodes, keys)
	}
	if len(requisite) == 0 {
		return nil, nil // allowedTopologies with empty entries: upstream falls back to no topology
	}
	requisite = sortCompact(requisite)
	for _, t := range requisite {
		if t.subset(selected) {
			return t, nil
		}
	}
	return nil, requirementsError("topology %v from selected node %q is not in requisite: %v", selected, in.SelectedNode, requisite)
}

// selectedNodeKeys is topologyKeysLookup with kwoksim's default for a driver no CSINode lists.
func selectedNodeKeys(in Input, node *corev1.Node) (keys []string, topological bool, err error) {
	csiNode := findCSINode(in.CSINodes, in.SelectedNode)
	if csiNode != nil {
		if d := findDriver(csiNode, in.Driver); d != nil {
			return d.TopologyKeys, len(d.TopologyKeys) > 0, nil
		}
	}
	if driverRegistered(in.CSINodes, in.Driver) {
		if csiNode == nil {
			// A NotFound, which upstream returns unwrapped (and then asks the scheduler to
			// pick another node by removing the selected-node annotation).
			return nil, false, fmt.Errorf("failed to get selected CSINode %s: csinode.storage.k8s.io %q not found", in.SelectedNode, in.SelectedNode)
		}
		return nil, false, requirementsError("no topology key found for node %s", in.SelectedNode)
	}
	if node == nil {
		// A deleted node's CSINode goes with it (the kubelet makes the Node its owner).
		return nil, false, fmt.Errorf("failed to get selected CSINode %s: csinode.storage.k8s.io %q not found", in.SelectedNode, in.SelectedNode)
	}
	if _, ok := node.Labels[ZoneLabel]; ok {
		return []string{ZoneLabel}, true, nil
	}
	return nil, false, nil
}

// immediate is the Immediate case: the requisite (allowedTopologies, else every node's
// topology) sorted, and shifted by the claim name's hash (getPVCNameHashAndIndexOffset).
func immediate(in Input) (topologyTerm, error) {
	var requisite []topologyTerm
	if len(in.AllowedTopologies) != 0 {
		requisite = flatten(in.AllowedTopologies)
	} else {
		keys := immediateKeys(in)
		if len(keys) == 0 {
			return nil, nil
		}
		if requisite = aggregate(in.Nodes, keys); len(requisite) == 0 {
			return nil, requirementsError("topologyKeys %v were not found on any nodes", keys)
		}
	}
	if len(requisite) == 0 {
		return nil, nil
	}
	requisite = sortCompact(requisite)
	hash, index := pvcNameHashAndIndexOffset(in.ClaimName)
	return requisite[(hash+index)%uint32(len(requisite))], nil
}

// immediateKeys are the keys of the first CSINode by name that lists the driver with keys;
// when none lists the driver, the zone label if some node has it.
func immediateKeys(in Input) []string {
	registered := false
	for _, c := range in.CSINodes {
		if d := findDriver(c, in.Driver); d != nil {
			registered = true
			if len(d.TopologyKeys) > 0 {
				return d.TopologyKeys
			}
		}
	}
	if registered {
		return nil // the driver registered without keys: not topological
	}
	for _, n := range in.Nodes {
		if _, ok := n.Labels[ZoneLabel]; ok {
			return []string{ZoneLabel}
		}
	}
	return nil
}

func aggregate(nodes []*corev1.Node, keys []string) []topologyTerm {
	var terms []topologyTerm
	for _, n := range nodes {
		if t, missing := extractTopologyTerm(n.Labels, keys); !missing && len(t) > 0 {
			terms = append(terms, t)
		}
	}
	return terms
}

func sortCompact(terms []topologyTerm) []topologyTerm {
	slices.SortFunc(terms, topologyTerm.compare)
	return slices.CompactFunc(terms, slices.Equal)
}

func driverRegistered(csiNodes []*storagev1.CSINode, driver string) bool {
	for _, c := range csiNodes {
		if findDriver(c, driver) != nil {
			return true
		}
	}
	return false
}

func findDriver(c *storagev1.CSINode, driver string) *storagev1.CSINodeDriver {
	for i := range c.Spec.Drivers {
		if c.Spec.Drivers[i].Name == driver {
			return &c.Spec.Drivers[i]
		}
	}
	return nil
}

func findNode(nodes []*corev1.Node, name string) *corev1.Node {
	i, ok := slices.BinarySearchFunc(nodes, name, func(n *corev1.Node, name string) int { return strings.Compare(n.Name, name) })
	if !ok {
		return nil
	}
	return nodes[i]
}

func findCSINode(csiNodes []*storagev1.CSINode, name string) *storagev1.CSINode {
	i, ok := slices.BinarySearchFunc(csiNodes, name, func(c *storagev1.CSINode, name string) int { return strings.Compare(c.Name, name) })
	if !ok {
		return nil
	}
	return csiNodes[i]
}

// extractTopologyTerm is upstream's: the node's values for keys, sorted; missing when a key is
// not among the labels.
func extractTopologyTerm(labels map[string]string, keys []string) (topologyTerm, bool) {
	term := topologyTerm{}
	for _, k := range keys {
		v, ok := labels[k]
		if !ok {
			return nil, true
		}
		term = append(term, topologySegment{k, v})
	}
	term.sort()
	return term, false
}

// flatten is upstream's: allowedTopologies with the OR of values distributed over the AND of
// keys, each term sorted.
func flatten(allowed []corev1.TopologySelectorTerm) []topologyTerm {
	var final []topologyTerm
	for _, selectorTerm := range allowed {
		var old []topologyTerm
		for _, expr := range selectorTerm.MatchLabelExpressions {
			var terms []topologyTerm
			for _, v := range expr.Values {
				if len(old) == 0 {
					terms = append(terms, topologyTerm{{expr.Key, v}})
					continue
				}
				for _, o := range old {
					terms = append(terms, append(slices.Clone(o), topologySegment{expr.Key, v}))
				}
			}
			old = terms
		}
		final = append(final, old...)
	}
	for _, t := range final {
		t.sort()
	}
	return final
}

func (t topologyTerm) sort() {
	slices.SortFunc(t, func(a, b topologySegment) int {
		if r := strings.Compare(a.Key, b.Key); r != 0 {
			return r
		}
		return strings.Compare(a.Value, b.Value)
	})
}

func (t topologyTerm) compare(other topologyTerm) int {
	if len(t) != len(other) {
		return len(t) - len(other)
	}
	for i, a := range t {
		b := other[i]
		if r := strings.Compare(a.Key, b.Key); r != 0 {
			return r
		}
		if r := strings.Compare(a.Value, b.Value); r != 0 {
			return r
		}
	}
	return 0
}

// subset is upstream's: every segment of t is in other (both sorted).
func (t topologyTerm) subset(other topologyTerm) bool {
	if len(t) == 0 {
		return true
	}
	j := 0
	for _, b := range other {
		a := t[j]
		if a.Key != b.Key {
			continue
		}
		if a.Value != b.Value {
			return false
		}
		j++
		if j == len(t) {
			return true
		}
	}
	return false
}

// pvcNameHashAndIndexOffset is getPVCNameHashAndIndexOffset (external-provisioner, identical to
// pkg/volume/util's): a claim named like a StatefulSet's (<claim>-<set>-<ordinal>) hashes the
// set's name and is offset by the ordinal, so a set's volumes go round the zones.
func pvcNameHashAndIndexOffset(name string) (hash, index uint32) {
	s := name
	if dash := strings.LastIndexByte(name, '-'); dash != -1 {
		if id, err := strconv.ParseUint(name[dash+1:], 10, 32); err == nil {
			index = uint32(id)
			s = name[:dash]
			if dash := strings.LastIndexByte(s, '-'); dash != -1 {
				s = s[dash+1:]
			}
		}
	}
	h := fnv.New32()
	h.Write([]byte(s))
	return h.Sum32(), index
}
