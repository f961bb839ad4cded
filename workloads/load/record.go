package load

import (
	"sort"
	"time"

	"github.com/kwoksim/kwoksim/analysis"
)

// workloadStep is one step of a series; the cluster's series leaves ReadyPods at 0.
type workloadStep = analysis.WorkloadUsageStep

// record is one workload's usage record and the totals it is stepped from.
type record struct {
	rec analysis.WorkloadUsageRecord
	// w is the workload when a load operation gave it a demand.
	w *workload
	// annoUse and annoReq are the annotated usage of its Running pods and their requests;
	// annoReady counts its annotated pods that are Ready.
	annoUse, annoReq [nres]int64
	annoReady        int32
	// dirty: in Model.dirty, to be stepped.
	dirty bool
}

// recordFor is the record of a workload, made (last in order) on its first use.
func (m *Model) recordFor(ref Ref) *record {
	if r := m.recordOf[ref]; r != nil {
		return r
	}
	r := &record{rec: analysis.WorkloadUsageRecord{Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}}
	m.recordOf[ref] = r
	m.records = append(m.records, r)
	return r
}

// touch marks a record as changed, for the next flush.
func (m *Model) touch(r *record) {
	if !r.dirty {
		r.dirty = true
		m.dirty = append(m.dirty, r)
	}
}

// value is the record's usage now. A loaded workload's demand counts with the requests of
// its Ready pods, which share it, and its Ready count; annotated pods count while Running.
func (r *record) value(at time.Duration) workloadStep {
	s := workloadStep{UsageStep: usageStep(at)}
	use, req := r.annoUse, r.annoReq
	s.ReadyPods = r.annoReady
	if w := r.w; w != nil {
		for i := range nres {
			use[i] += w.use(i)
			if w.set[i] {
				req[i] += w.readyReq[i]
			}
		}
		s.ReadyPods = w.ready
	}
	s.CPU, s.Memory, s.RequestedCPU, s.RequestedMemory = use[cpu], use[memory], req[cpu], req[memory]
	return s
}

// flush steps the records a change touched and the cluster's series, at the present time.
func (m *Model) flush() {
	m.version++
	at := m.s.Elapsed()
	for _, r := range m.dirty {
		r.dirty = false
		r.rec.Steps = putStep(r.rec.Steps, r.value(at))
	}
	m.dirty = m.dirty[:0]
	c := workloadStep{UsageStep: usageStep(at)}
	c.CPU = m.demandUse[cpu] + m.annoUse[cpu]
	c.Memory = m.demandUse[memory] + m.annoUse[memory]
	c.RequestedCPU = m.demandReq[cpu] + m.annoReq[cpu]
	c.RequestedMemory = m.demandReq[memory] + m.annoReq[memory]
	m.cluster = putStep(m.cluster, c)
}

// putStep adds s to a step series: nothing when the value is unchanged, in place of the last
// step when that one is at the same instant (several changes at one instant make one step),
// and the last step goes when the instant's changes cancel out.
func putStep(steps []workloadStep, s workloadStep) []workloadStep {
	n := len(steps)
	if n == 0 {
		return append(steps, s)
	}
	if sameValue(steps[n-1], s) {
		return steps
	}
	if steps[n-1].At != s.At {
		return append(steps, s)
	}
	if n > 1 && sameValue(steps[n-2], s) {
		return steps[:n-1]
	}
	steps[n-1] = s
	return steps
}

func sameValue(a, b workloadStep) bool {
	a.At = b.At
	return a == b
}

func usageStep(at time.Duration) analysis.UsageStep { return analysis.UsageStep{At: at} }

// loadStep records a load operation: -1 for a resource it left as it was.
func loadStep(at time.Duration, demand [nres]int64, set [nres]bool) analysis.LoadStep {
	s := analysis.LoadStep{At: at, CPU: -1, Memory: -1}
	if set[cpu] {
		s.CPU = demand[cpu]
	}
	if set[memory] {
		s.Memory = demand[memory]
	}
	return s
}

// usageRecord is the record the simulator's observation takes (Recorder.Usage): a copy, nil
// until a pod had usage data.
func (m *Model) usageRecord() *analysis.UsageRecord {
	if !m.had {
		return nil
	}
	out := &analysis.UsageRecord{Cluster: make([]analysis.UsageStep, len(m.cluster))}
	for i, s := range m.cluster {
		out.Cluster[i] = s.UsageStep
	}
	for _, r := range m.records {
		if len(r.rec.Steps) == 0 && len(r.rec.Loads) == 0 {
			continue
		}
		w := r.rec
		w.Loads = append([]analysis.LoadStep(nil), w.Loads...)
		w.Steps = append([]analysis.WorkloadUsageStep(nil), w.Steps...)
		out.Workloads = append(out.Workloads, w)
	}
	// In the order they first had usage: a record is made when a pod is first seen, which
	// can be before it runs.
	sort.SliceStable(out.Workloads, func(i, j int) bool { return firstAt(out.Workloads[i]) < firstAt(out.Workloads[j]) })
	return out
}

func firstAt(w analysis.WorkloadUsageRecord) time.Duration {
	if len(w.Steps) == 0 {
		return w.Loads[0].At
	}
	return w.Steps[0].At
}
