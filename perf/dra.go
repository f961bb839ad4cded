package perf

import (
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/dynamic-resource-allocation/cel"
	"k8s.io/dynamic-resource-allocation/structured"
	"k8s.io/kubernetes/pkg/features"
	"sigs.k8s.io/yaml"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
	"github.com/kwoksim/kwoksim/workloads/resourceclaim"
)

// The DRA ops of upstream's dra.go, and the resource claim controller scheduler_perf runs
// when DRA is on.

// needsClaimController is upstream's test in mustSetupCluster (util.go): the resource claim
// controller runs when the gates set DynamicResourceAllocation explicitly, as the DRA
// configurations do (the gate being on by default is not enough, there as here); pods with
// claim templates get their claims only from it. The gates are the workload's with
// --feature-gates over them, where upstream's map holds the workload's alone.
func needsClaimController(gates map[string]bool) bool {
	return gates[string(features.DynamicResourceAllocation)]
}

// startClaimController starts kube-controller-manager's resource claim controller on the
// simulator (workloads/resourceclaim), alone: scheduler_perf's other controllers (garbage
// collector, namespace, fake PV controller) are not run by kwoksim perf.
func startClaimController(s *sim.Simulator) {
	m := manager.New(s)
	resourceclaim.New(m)
	m.Start()
}

// createResourceClaimsOp is upstream's: Count claims from a file (plain YAML, not a
// template, as upstream's getSpecFromFile reads it) in Namespace.
type createResourceClaimsOp struct {
	Opcode       string
	Count        int
	CountParam   string
	Namespace    string
	TemplatePath string
}

func (c *createResourceClaimsOp) isValid(allow bool) error {
	if !isValidCount(allow, c.Count, c.CountParam) {
		return fmt.Errorf("invalid Count=%d / CountParam=%q", c.Count, c.CountParam)
	}
	if c.Namespace == "" {
		return fmt.Errorf("Namespace must be set")
	}
	if c.TemplatePath == "" {
		return fmt.Errorf("TemplatePath must be set")
	}
	return nil
}
func (*createResourceClaimsOp) collectsMetrics() bool { return false }
func (c createResourceClaimsOp) patchParams(w *Workload) (realOp, error) {
	if err := countFrom(w, c.CountParam, &c.Count); err != nil {
		return nil, err
	}
	return &c, c.isValid(false)
}

// allocResourceClaimsOp is upstream's: allocate the claims of Namespace (all namespaces when
// empty) directly, without pods, as a scheduler would.
type allocResourceClaimsOp struct {
	Opcode    string
	Namespace string
}

func (*allocResourceClaimsOp) isValid(bool) error                     { return nil }
func (*allocResourceClaimsOp) collectsMetrics() bool                  { return false }
func (a allocResourceClaimsOp) patchParams(*Workload) (realOp, error) { return &a, nil }

// createResourceClaims is upstream's createResourceClaimsOp.run. Upstream creates them from
// 30 goroutines; here they are created one after another.
func (e *executor) createResourceClaims(o *createResourceClaimsOp) error {
	if err := e.ensureNamespace(o.Namespace); err != nil { // requiredNamespaces
		return err
	}
	data, err := os.ReadFile(e.tmpl.path(o.TemplatePath))
	if err != nil {
		return fmt.Errorf("parsing ResourceClaim %q: %w", o.TemplatePath, err)
	}
	var claim resourceapi.ResourceClaim
	if err := yaml.UnmarshalStrict(data, &claim); err != nil {
		return fmt.Errorf("parsing ResourceClaim %q: %w", o.TemplatePath, err)
	}
	claim.Namespace = o.Namespace
	for range o.Count {
		if _, err := e.api.Create(claim.DeepCopy()); err != nil {
			return fmt.Errorf("create claim: %w", err)
		}
	}
	return nil
}

// classLister is structured.DeviceClassLister over the simulated apiserver.
type classLister struct {
	api  *sim.API
	kind *sim.Kind
}

func (l classLister) List() ([]*resourceapi.DeviceClass, error) {
	objs, err := l.api.List(l.kind)
	if err != nil {
		return nil, err
	}
	out := make([]*resourceapi.DeviceClass, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*resourceapi.DeviceClass))
	}
	return out, nil
}

func (l classLister) Get(name string) (*resourceapi.DeviceClass, error) {
	o, err := l.api.Get(l.kind, "", name)
	if err != nil {
		return nil, err
	}
	return o.(*resourceapi.DeviceClass), nil
}

// allocResourceClaims is upstream's allocResourceClaimsOp.run: each unallocated claim, in the
// order the apiserver lists them, is allocated by the structured allocator on the first node,
// in a random order drawn anew for each claim, where it fits, and the allocation written to
// the claim's status. It runs at the op's virtual instant: nothing else writes meanwhile, so
// the allocated devices are gathered once and grown with each allocation, where upstream lists
// its assume cache again for every claim (the same set, as it assumes each write at once).
func (e *executor) allocResourceClaims(o *allocResourceClaimsOp) error {
	kinds := map[string]*sim.Kind{}
	for _, n := range []string{"ResourceClaim", "ResourceSlice", "DeviceClass", "DeviceTaintRule"} {
		k, err := sim.KindNamed(n)
		if err != nil {
			return err
		}
		kinds[n] = k
	}
	claimObjs, err := e.api.List(kinds["ResourceClaim"])
	if err != nil {
		return fmt.Errorf("list claims: %w", err)
	}
	if utilfeature.DefaultFeatureGate.Enabled(features.DRADeviceTaintRules) {
		// Upstream's allocator sees the slices with the rules' taints applied
		// (ListWithDeviceTaintRules); kwoksim does not apply them outside the scheduler.
		if rules, err := e.api.List(kinds["DeviceTaintRule"]); err != nil || len(rules) > 0 {
			return fmt.Errorf("allocResourceClaims with DeviceTaintRules is not supported by kwoksim perf")
		}
	}
	// The set of nodes is assumed to be fixed at this point (upstream's words).
	nodeObjs, err := e.api.List(e.nodeKind)
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	nodes := make([]*corev1.Node, 0, len(nodeObjs))
	for _, n := range nodeObjs {
		nodes = append(nodes, n.(*corev1.Node))
	}
	sliceObjs, err := e.api.List(kinds["ResourceSlice"])
	if err != nil {
		return fmt.Errorf("list slices: %w", err)
	}
	slices := make([]*resourceapi.ResourceSlice, 0, len(sliceObjs))
	for _, s := range sliceObjs {
		slices = append(slices, s.(*resourceapi.ResourceSlice))
	}
	gate := utilfeature.DefaultFeatureGate.Enabled
	celCache := cel.NewCache(10, cel.Features{
		EnableConsumableCapacity: gate(features.DRAConsumableCapacity),
		EnableListTypeAttributes: gate(features.DRAListTypeAttributes),
	})
	feats := structured.Features{
		PrioritizedList:      gate(features.DRAPrioritizedList),
		AdminAccess:          gate(features.DRAAdminAccess),
		DeviceTaints:         gate(features.DRADeviceTaints),
		PartitionableDevices: gate(features.DRAPartitionableDevices),
		ConsumableCapacity:   gate(features.DRAConsumableCapacity),
		CompatibilityGroups:  gate(features.DRADeviceCompatibilityGroups),
	}
	state := structured.AllocatedState{
		AllocatedDevices:         sets.New[structured.DeviceID](),
		AllocatedSharedDeviceIDs: sets.New[structured.SharedDeviceID](),
		AggregatedCapacity:       structured.NewConsumedCapacityCollection(),
	}
	// addAllocated is the loop upstream runs over the claims before each allocation. As there,
	// every result's device goes into AllocatedDevices, shared or not.
	addAllocated := func(a *resourceapi.AllocationResult) {
		for _, r := range a.Devices.Results {
			id := structured.MakeDeviceID(r.Driver, r.Pool, r.Device)
			state.AllocatedDevices.Insert(id)
			if r.ShareID == nil {
				continue
			}
			state.AllocatedSharedDeviceIDs.Insert(structured.MakeSharedDeviceID(id, r.ShareID))
			if r.ConsumedCapacity != nil {
				state.AggregatedCapacity.Insert(structured.NewDeviceConsumedCapacity(id, r.ConsumedCapacity))
			}
		}
	}
	for _, c := range claimObjs {
		if a := c.(*resourceapi.ResourceClaim).Status.Allocation; a != nil {
			addAllocated(a)
		}
	}
	classes := classLister{api: e.api, kind: kinds["DeviceClass"]}
	var todo []*resourceapi.ResourceClaim
	for _, c := range claimObjs {
		claim := c.(*resourceapi.ResourceClaim)
		if (o.Namespace == "" || claim.Namespace == o.Namespace) && claim.Status.Allocation == nil {
			todo = append(todo, claim)
		}
	}
claims:
	for i, claim := range todo {
		allocator, err := structured.NewAllocator(e.ctx, feats, state, classes, slices, celCache)
		if err != nil {
			return fmt.Errorf("create allocator: %w", err)
		}
		e.rng.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
		for _, node := range nodes {
			result, err := allocator.Allocate(e.ctx, node, []*resourceapi.ResourceClaim{claim})
			if err != nil {
				return fmt.Errorf("allocate claim: %w", err)
			}
			if result == nil {
				continue
			}
			claim.Status.Allocation = &result[0]
			if _, err := e.api.UpdateStatus(claim); err != nil {
				return fmt.Errorf("update claim status with allocation: %w", err)
			}
			addAllocated(&result[0])
			continue claims
		}
		return fmt.Errorf("could not allocate claim %d out of %d", i, len(todo))
	}
	return nil
}
