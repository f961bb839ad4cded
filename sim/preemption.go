package sim

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"

	corev1 "k8s.io/api/core/v1"

	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"
	"k8s.io/kubernetes/pkg/scheduler/util"

	"k8s.io/apimachinery/pkg/runtime"
	fwk "k8s.io/kube-scheduler/framework"
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/defaultpreemption"
	plfeature "k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/names"

	utilfeature "k8s.io/apiserver/pkg/util/feature"
)

// seededPreemptionName is the registry name of the real DefaultPreemption plugin with its one
// random choice drawn from the run's seed. The plugin keeps its own Name(), so statuses,
// messages and queueing hints read exactly as the real plugin's.
const seededPreemptionName = "KwoksimSeededDefaultPreemption"

// seededOffsets is the real plugin with GetOffsetAndNumCandidates overridden: the real one
// starts the dry run at rand.Int31n(numNodes) from the process-wide source, which no seed
// reaches, and the starting node decides which candidates are found, so the victims.
//
// It also makes the plugin's last tie-break deterministic. The real one picks "the first such
// node" of a list built by ranging over a map, so among candidates equal on every criterion
// the choice is Go's map order. Here it is the first in the order the dry run found them,
// which starts at the seeded offset: the same distribution, reproducible from the seed.
type seededOffsets struct {
	*defaultpreemption.DefaultPreemption
	rng *rand.Rand
	// found is the order of the candidates the last SelectCandidate was given.
	found map[string]int
	// preempted is called after a preemption: it may have cancelled a victim's binding
	// cycle waiting in PreBind (see driver.afterPreemption).
	preempted func()
}

func (p *seededOffsets) GetOffsetAndNumCandidates(numNodes int32) (int32, int32) {
	// The real method computes the candidate count (an unexported helper); its offset, drawn
	// from the global source, is discarded.
	_, n := p.DefaultPreemption.GetOffsetAndNumCandidates(numNodes)
	return p.rng.Int32N(numNodes), n
}

// PostFilter runs the real plugin with the nodes that failed in a fixed order: the
// framework's NodeToStatus lists explicitly failed nodes by ranging over a map, and the dry
// run walks that list from the offset, so the order decides which candidates are found.
func (p *seededOffsets) PostFilter(ctx context.Context, state fwk.CycleState, pod *corev1.Pod, m fwk.NodeToStatusReader) (*fwk.PostFilterResult, *fwk.Status) {
	r, status := p.DefaultPreemption.PostFilter(ctx, state, pod, orderedStatuses{m})
	if status.IsSuccess() && p.preempted != nil {
		p.preempted()
	}
	return r, status
}

// orderedStatuses returns the nodes of a status code in the order of the scheduler's node
// snapshot, which is deterministic.
type orderedStatuses struct{ fwk.NodeToStatusReader }

func (o orderedStatuses) NodesForStatusCode(lister fwk.NodeInfoLister, code fwk.Code) ([]fwk.NodeInfo, error) {
	nodes, err := o.NodeToStatusReader.NodesForStatusCode(lister, code)
	if err != nil || len(nodes) < 2 {
		return nodes, err
	}
	all, err := lister.List()
	if err != nil {
		return nil, err
	}
	pos := make(map[string]int, len(all))
	for i, n := range all {
		pos[n.Node().Name] = i
	}
	sort.SliceStable(nodes, func(i, j int) bool { return pos[nodes[i].Node().Name] < pos[nodes[j].Node().Name] })
	return nodes, nil
}

func (p *seededOffsets) CandidatesToVictimsMap(candidates []preemption.Candidate) map[string]*extenderv1.Victims {
	p.found = make(map[string]int, len(candidates))
	for i, c := range candidates {
		if _, dup := p.found[c.Name()]; !dup {
			p.found[c.Name()] = i
		}
	}
	return p.DefaultPreemption.CandidatesToVictimsMap(candidates)
}

// OrderedScoreFuncs returns the criteria pickOneNodeForPreemption applies when given none,
// in its order, and then the order the candidates were found in.
func (p *seededOffsets) OrderedScoreFuncs(ctx context.Context, victims map[string]*extenderv1.Victims) []func(string) int64 {
	if fs := p.DefaultPreemption.OrderedScoreFuncs(ctx, victims); len(fs) > 0 {
		return fs
	}
	return []func(string) int64{
		func(node string) int64 { return -victims[node].NumPDBViolations },
		func(node string) int64 { return -int64(corev1helpers.PodPriority(victims[node].Pods[0])) },
		func(node string) int64 {
			var sum int64
			for _, pod := range victims[node].Pods {
				// Shifted to be non-negative, as the plugin does.
				sum += int64(corev1helpers.PodPriority(pod)) + int64(math.MaxInt32+1)
			}
			return -sum
		},
		func(node string) int64 { return -int64(len(victims[node].Pods)) },
		func(node string) int64 {
			earliest := util.GetEarliestPodStartTime(victims[node])
			if earliest == nil {
				return math.MinInt64
			}
			return earliest.UnixNano()
		},
		func(node string) int64 { return -int64(p.found[node]) },
	}
}

// newSeededPreemption builds the real plugin with the arguments its profile gives it (the
// DefaultPreemption entry of the profile's pluginConfig, renamed by useSeededPreemption) and
// points its evaluator at the seeded override.
func newSeededPreemption(rng *rand.Rand, preempted func()) func(context.Context, runtime.Object, fwk.Handle) (fwk.Plugin, error) {
	return func(ctx context.Context, args runtime.Object, fh fwk.Handle) (fwk.Plugin, error) {
		fts := plfeature.NewSchedulerFeaturesFromGates(utilfeature.DefaultFeatureGate)
		pl, err := defaultpreemption.New(ctx, args, fh, fts)
		if err != nil {
			return nil, err
		}
		seeded := &seededOffsets{DefaultPreemption: pl, rng: rng, preempted: preempted}
		pl.Evaluator.Interface = seeded
		return seeded, nil
	}
}

// useSeededPreemption puts the seeded plugin in DefaultPreemption's place in a defaulted
// profile: wherever the profile enables or disables DefaultPreemption (MultiPoint, where the
// defaults put it, or an extension point a configuration names), and in its pluginConfig, so
// the seeded plugin gets this profile's arguments. Renaming in place keeps the PostFilter
// order and whatever the configuration disabled stays disabled; a profile without
// DefaultPreemption is left without it.
func useSeededPreemption(p *schedulerapi.KubeSchedulerProfile) {
	if p.Plugins != nil {
		for _, set := range pluginSets(p.Plugins) {
			for _, list := range [][]schedulerapi.Plugin{set.Enabled, set.Disabled} {
				for i := range list {
					if list[i].Name == names.DefaultPreemption {
						list[i].Name = seededPreemptionName
					}
				}
			}
		}
	}
	for i := range p.PluginConfig {
		if p.PluginConfig[i].Name == names.DefaultPreemption {
			p.PluginConfig[i].Name = seededPreemptionName
		}
	}
}

// pluginSets are every extension point of a profile's plugins, found by type so that one a
// later release adds is not missed.
func pluginSets(ps *schedulerapi.Plugins) []*schedulerapi.PluginSet {
	var sets []*schedulerapi.PluginSet
	v := reflect.ValueOf(ps).Elem()
	for i := range v.NumField() {
		if set, ok := v.Field(i).Addr().Interface().(*schedulerapi.PluginSet); ok {
			sets = append(sets, set)
		}
	}
	return sets
}
