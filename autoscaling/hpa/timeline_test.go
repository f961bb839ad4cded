package hpa

import (
	"fmt"
	"math"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// The worked timeline of docs/hpa.md part 5, driven through Compute and Rescaled only.
//
// Setup: pods request 500m cpu; minReplicas 2, maxReplicas 20, cpu averageUtilization 50;
// the target starts at 2 replicas; demand 1 CPU from 0, 6 CPU from 600 s, 1 CPU from 2400 s.
// Assumptions (docs/hpa.md part 5):
//   - A1: the HPA is reconciled at 0 and every 15 s; the first reconcile sees 2 Ready pods
//     (started well before, so they are past their first metric window).
//   - A2: a load step at T is in place before the tick at T.
//   - A3: a pod created by a rescale is Running and Ready at that instant (startTime and the
//     Ready transition are the rescale's time).
//   - A4: every Ready pod's metric is its share of the demand, Timestamp now, Window 15 s.
//   - Flags at their defaults (5 m downscale stabilization, 0.1 tolerance, 5 m CPU
//     initialization, 30 s readiness delay).
const (
	tlRequest = 500 // millicores per pod
	tlTarget  = 50  // percent
	tlMin     = 2
	tlMax     = 20
)

var tlStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func tlDemand(t time.Duration) int64 {
	switch {
	case t < 600*time.Second:
		return 1000
	case t < 2400*time.Second:
		return 6000
	default:
		return 1000
	}
}

// tlCluster is the target: its replicas and pods, and what the HPA did.
type tlCluster struct {
	c        *Controller
	hpa      *autoscalingv2.HorizontalPodAutoscaler
	replicas int32
	pods     []*corev1.Pod
	created  int
	upEvents []struct {
		at     time.Duration
		change int32
	}
}

func newTLCluster(behavior *autoscalingv2.HorizontalPodAutoscalerBehavior) *tlCluster {
	k := &tlCluster{c: New(flagDefaults), hpa: cpuHPA(int32p(tlMin), tlMax, tlTarget, behavior)}
	k.resize(2, tlStart.Add(-time.Hour))
	return k
}

// resize adds pods Ready at now (A3) or removes the newest.
func (k *tlCluster) resize(n int32, now time.Time) {
	for int32(len(k.pods)) < n {
		k.pods = append(k.pods, readyPod(fmt.Sprintf("web-%d", k.created), "500m", now))
		k.created++
	}
	k.pods = k.pods[:n]
	k.replicas = n
}

// metrics shares the demand among the Ready pods (A4).
func (k *tlCluster) metrics(at time.Duration, now time.Time) MetricsSource {
	return func(corev1.ResourceName, string) (PodMetrics, error) {
		m := PodMetrics{}
		share := tlDemand(at) / int64(len(k.pods))
		for _, p := range k.pods {
			m[p.Name] = PodMetric{Timestamp: now, Window: 15 * time.Second, Value: share}
		}
		return m, nil
	}
}

type tlTick struct {
	at    time.Duration
	out   Output
	event *Event
	from  int32
}

// formulaProposal is ceil(ratio × ready) with ratio = int(Σusage×100/Σrequest)/target, or the
// current count within the tolerance (docs/hpa.md 2.2).
func formulaProposal(demand int64, ready int32) int32 {
	share := demand / int64(ready)
	util := int64(share) * int64(ready) * 100 / (int64(tlRequest) * int64(ready))
	ratio := float64(util) / tlTarget
	if ratio >= 0.9 && ratio <= 1.1 {
		return ready
	}
	return int32(math.Ceil(ratio * float64(ready)))
}

// upLimit is the scale-up bound of docs/hpa.md 3.1 (legacy) or 3.2 with the default rules:
// max(periodStart+4, 2×periodStart), periodStart = current less the additions After(now−15 s).
func (k *tlCluster) upLimit(at time.Duration, current int32, legacy bool) int32 {
	if legacy {
		return max(2*current, 4)
	}
	start := current
	for _, e := range k.upEvents {
		if e.at > at-15*time.Second && e.at < at {
			start -= e.change
		}
	}
	return max(start+4, 2*start)
}

func TestWorkedTimeline(t *testing.T) {
	for _, path := range []struct {
		name     string
		behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
		downAt   time.Duration // docs/hpa.md part 5: 44m45s with behavior, 45m00s legacy
	}{
		{"behavior defaulted", &autoscalingv2.HorizontalPodAutoscalerBehavior{}, 2685 * time.Second},
		{"legacy", nil, 2700 * time.Second},
	} {
		t.Run(path.name, func(t *testing.T) {
			k := newTLCluster(path.behavior)
			legacy := path.behavior == nil
			// The expected rescales, in order (docs/hpa.md part 5).
			wantRescales := map[time.Duration]int32{0: 4, 600 * time.Second: 8, 615 * time.Second: 16, 630 * time.Second: 20, path.downAt: 4}
			ticks := k.runChecked(t, 3000*time.Second, legacy, wantRescales)

			for _, tk := range ticks {
				at, out := tk.at, tk.out
				switch {
				case at == 0:
					wantEvent(t, tk, "New size: 4; reason: cpu resource utilization (percentage of request) above target")
				case at == 600*time.Second || at == 615*time.Second:
					wantTickCondition(t, tk, autoscalingv2.ScalingLimited, corev1.ConditionTrue, "ScaleUpLimit")
				case at >= 630*time.Second && at < 2400*time.Second:
					wantTickCondition(t, tk, autoscalingv2.ScalingLimited, corev1.ConditionTrue, "TooManyReplicas")
					if at > 630*time.Second && (out.Rescale || out.Proposal != 24 || out.Pending) {
						t.Errorf("t=%v: %+v, want proposal 24 held at 20, not pending", at, out)
					}
				case at >= 2400*time.Second && at < path.downAt:
					wantTickCondition(t, tk, autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleDownStabilized")
					if out.Rescale || out.Proposal != 4 || !out.Pending {
						t.Errorf("t=%v: %+v, want proposal 4 held at 20, pending", at, out)
					}
				case at == path.downAt:
					wantEvent(t, tk, "New size: 4; reason: All metrics below target")
				case at > path.downAt:
					if out.Rescale || out.Pending || out.Proposal != 4 {
						t.Errorf("t=%v: %+v, want steady at 4", at, out)
					}
				}
			}
		})
	}
}

// runChecked runs the timeline and checks every tick's count against the formulas: a
// scale-up is min(ceil(ratio × ready), limit, max); any rescale happens exactly at the
// expected times.
func (k *tlCluster) runChecked(t *testing.T, end time.Duration, legacy bool, wantRescales map[time.Duration]int32) []tlTick {
	t.Helper()
	var ticks []tlTick
	for at := time.Duration(0); at <= end; at += 15 * time.Second {
		ready := k.replicas
		limit := k.upLimit(at, ready, legacy)
		tk := k.run1(at)
		ticks = append(ticks, tk)
		proposal := formulaProposal(tlDemand(at), ready)
		if tk.out.Proposal != proposal {
			t.Errorf("t=%v: proposal %d, want %d", at, tk.out.Proposal, proposal)
		}
		want, ok := wantRescales[at]
		if !ok {
			if tk.out.Rescale {
				t.Errorf("t=%v: unexpected rescale %d → %d", at, tk.from, tk.out.DesiredReplicas)
			}
			continue
		}
		if !tk.out.Rescale || tk.out.DesiredReplicas != want {
			t.Errorf("t=%v: rescale %v to %d, want %d", at, tk.out.Rescale, tk.out.DesiredReplicas, want)
		}
		if proposal > ready {
			if f := min(proposal, limit, tlMax); f != want {
				t.Errorf("t=%v: formula min(%d, %d, %d) = %d, table says %d", at, proposal, limit, tlMax, f, want)
			}
		} else if want != proposal {
			t.Errorf("t=%v: scale-down to %d, formula proposal %d", at, want, proposal)
		}
	}
	return ticks
}

func (k *tlCluster) run1(at time.Duration) tlTick {
	now := tlStart.Add(at)
	out := k.c.Compute(Input{Now: now, HPA: k.hpa, CurrentReplicas: k.replicas, Pods: k.pods, Metrics: k.metrics(at, now)})
	tick := tlTick{at: at, out: out, from: k.replicas}
	if out.Rescale {
		ev, _ := k.c.Rescaled(Key(k.hpa), k.hpa.Spec.Behavior, k.replicas, out.DesiredReplicas, out.Reason, now)
		tick.event = &ev
		if out.DesiredReplicas > k.replicas {
			k.upEvents = append(k.upEvents, struct {
				at     time.Duration
				change int32
			}{at, out.DesiredReplicas - k.replicas})
		}
		k.resize(out.DesiredReplicas, now)
	}
	return tick
}

func wantEvent(t *testing.T, tk tlTick, msg string) {
	t.Helper()
	if tk.event == nil || tk.event.Type != "Normal" || tk.event.Reason != "SuccessfulRescale" || tk.event.Message != msg {
		t.Errorf("t=%v: event %+v, want Normal SuccessfulRescale %q", tk.at, tk.event, msg)
	}
}

func wantTickCondition(t *testing.T, tk tlTick, typ autoscalingv2.HorizontalPodAutoscalerConditionType, status corev1.ConditionStatus, reason string) {
	t.Helper()
	for _, c := range Collapse(tk.out.Conditions) {
		if c.Type == typ {
			if c.Status != status || c.Reason != reason {
				t.Errorf("t=%v: %s = %s %s, want %s %s", tk.at, typ, c.Status, c.Reason, status, reason)
			}
			return
		}
	}
	t.Errorf("t=%v: no %s condition", tk.at, typ)
}
