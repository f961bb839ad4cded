package workloads_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/controlplane"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/nodelifecycle"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// Expected timelines below are derived from pkg/controller/nodelifecycle and
// pkg/controller/tainteviction (v1.37.2) with the default flags, not read off kwoksim:
//
//   - The health pass (monitorNodeHealth) runs at start and every --node-monitor-period (5 s):
//     at 0 s, 5 s, 10 s, …
//   - KWOK's chaos stage node-not-ready (delay 1000 ms, jitter 1000 ms: exactly 1 s) sets
//     Ready=False 1 s after the label is set.
//   - The NoSchedule taint of a condition comes with the node update (doNoScheduleTaintingPass
//     is driven by the node informer): at the instant Ready turns False.
//   - The NoExecute taint: the next health pass queues the node in its zone's tainter
//     (processTaintBaseEviction); the tainting pass (every 100 ms) takes it as soon as the
//     zone's token bucket (--node-eviction-rate 0.1, burst 1) has a token: one node per 10 s.
//     The buckets are full by then (a new zone's bucket is drained on the controller's first
//     passes, at the latest at 5 s, and refills in 10 s).
//   - The taint eviction controller deletes a pod tolerationSeconds after it processes the
//     taint (processPodOnNode), at once when a taint is not tolerated, never when it is
//     tolerated without tolerationSeconds.

// chaosStages is the default stage set plus KWOK's node-not-ready chaos stage.
func chaosStages(t *testing.T) []*stages.Stage {
	t.Helper()
	data, err := os.ReadFile("../testdata/kwok/stages/node/chaos/node-not-ready.yaml")
	if err != nil {
		t.Fatal(err)
	}
	chaos, err := stages.Parse(data, "node-not-ready.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return append(stages.Default(), chaos...)
}

// notReadyTolerations are those DefaultTolerationSeconds admission gives every pod (written
// out, so that the test does not depend on the admission plugin).
func notReadyTolerations(seconds int64) []corev1.Toleration {
	return []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(seconds)},
		{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(seconds)},
	}
}

func zoneNode(name, zone string, cpus int) *corev1.Node {
	n := workloadstest.CPUNode(name, cpus)
	if zone != "" {
		n.Labels[corev1.LabelTopologyZone] = zone
	}
	return n
}

// pinnedPod is a bare pod of one CPU on a node, with the given tolerations.
func pinnedPod(name, node string, tolerations []corev1.Toleration) *corev1.Pod {
	spec := workloadstest.PodSpec("1")
	if node != "" {
		spec.NodeSelector = map[string]string{corev1.LabelHostname: node}
	}
	spec.Tolerations = tolerations
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       spec,
	}
}

// taintLog records, for each node, when each taint (key:effect) appeared and went, as
// "node +key:effect@t" and "node -key:effect@t".
func taintLog(s *sim.Simulator) *[]string {
	var log []string
	s.API().Watch(func(ev sim.WatchEvent) {
		n, ok := ev.Object.(*corev1.Node)
		if !ok || ev.Type == watch.Deleted {
			return
		}
		var before []corev1.Taint
		if ev.Old != nil {
			before = ev.Old.(*corev1.Node).Spec.Taints
		}
		key := func(t corev1.Taint) string { return t.Key + ":" + string(t.Effect) }
		has := func(ts []corev1.Taint, k string) bool {
			return slices.ContainsFunc(ts, func(t corev1.Taint) bool { return key(t) == k })
		}
		for _, t := range n.Spec.Taints {
			if !has(before, key(t)) {
				log = append(log, fmt.Sprintf("%s +%s@%v", n.Name, key(t), s.Elapsed()))
			}
		}
		for _, t := range before {
			if !has(n.Spec.Taints, key(t)) {
				log = append(log, fmt.Sprintf("%s -%s@%v", n.Name, key(t), s.Elapsed()))
			}
		}
	})
	return &log
}

// grep keeps the lines containing every one of the words.
func grep(lines []string, words ...string) []string {
	var out []string
	for _, l := range lines {
		all := true
		for _, w := range words {
			all = all && strings.Contains(l, w)
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}

func expectLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// A node made NotReady by KWOK's chaos stage at 60 s (label set by a patch, Ready=False at
// 61 s): not-ready:NoSchedule at 61 s; the health pass at 65 s queues it and the tainting pass
// at 65 s gives it not-ready:NoExecute (the zone, "bad" and "good", is not disrupted: 1 of 2
// not Ready). Pods with the default 300 s toleration are deleted at 365 s and replaced on
// "good"; the pod tolerating 60 s at 125 s; the one tolerating without seconds stays; a pod
// created at 70 s does not go to "bad".
func TestNotReadyNodeTaintsAndEvicts(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: chaosStages(t), Until: 10 * time.Minute})
	taints := taintLog(s)
	pods := workloadstest.WatchPods(s)
	reasons := disruptionReasons(s)
	web := workloadstest.Deployment("web", 2)
	web.Spec.Template.Spec.NodeSelector = nil
	web.Spec.Template.Spec.Tolerations = notReadyTolerations(300)
	workloadstest.Create(t, s, zoneNode("bad", "", 10), web,
		pinnedPod("short", "bad", notReadyTolerations(60)),
		pinnedPod("forever", "bad", []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}}))
	// "good" arrives at 30 s, once the Deployment's pods are on "bad".
	s.Clock().At(sim.Epoch.Add(30*time.Second), func() { workloadstest.Create(t, s, zoneNode("good", "", 10)) })
	workloadstest.PatchAt(t, s, time.Minute, "Node", "", "bad", `{"metadata":{"labels":{"node-not-ready.stage.kwok.x-k8s.io":"true"}}}`)
	s.Clock().At(sim.Epoch.Add(70*time.Second), func() { workloadstest.Create(t, s, pinnedPod("late", "", nil)) })
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	expectLines(t, "taints of bad after 1m", grep(*taints, "bad", "not-ready"), []string{
		"bad +node.kubernetes.io/not-ready:NoSchedule@0s", // NodeTaint admission
		"bad -node.kubernetes.io/not-ready:NoSchedule@0s", // no condition calls for it
		"bad +node.kubernetes.io/not-ready:NoSchedule@1m1s",
		"bad +node.kubernetes.io/not-ready:NoExecute@1m5s",
	})
	var term []string
	for _, e := range *pods {
		if e.What == "terminating" {
			term = append(term, e.Pod+"@"+e.At.String())
		}
	}
	slices.Sort(term)
	if len(term) != 3 || term[0] != "short@2m5s" || !strings.HasSuffix(term[1], "@6m5s") || !strings.HasSuffix(term[2], "@6m5s") {
		t.Errorf("terminations: got %v, want the two web pods at 6m5s and short at 2m5s", term)
	}
	for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
		switch {
		case p.Name == "forever":
			if p.DeletionTimestamp != nil || p.Spec.NodeName != "bad" {
				t.Errorf("forever: want it kept on bad, got node %q deleting %v", p.Spec.NodeName, p.DeletionTimestamp)
			}
		case p.DeletionTimestamp == nil && p.Spec.NodeName != "good":
			t.Errorf("%s on %q: want every live pod but forever on good", p.Name, p.Spec.NodeName)
		}
	}
	live := 0
	for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
		if strings.HasPrefix(p.Name, "web-") && p.DeletionTimestamp == nil {
			live++
		}
	}
	if live != 2 {
		t.Errorf("web: %d live pods at the end, want 2 (replaced on good)", live)
	}
	for _, name := range term {
		name = name[:strings.Index(name, "@")]
		if got := (*reasons)[name]; got != "DeletionByTaintManager: Taint manager: deleting due to NoExecute taint" {
			t.Errorf("%s: DisruptionTarget when deleted %q, want the taint manager's", name, got)
		}
	}
}

// disruptionReasons records the DisruptionTarget condition (reason: message) each pod had
// when its deletion began.
func disruptionReasons(s *sim.Simulator) *map[string]string {
	out := map[string]string{}
	s.API().Watch(func(ev sim.WatchEvent) {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok || ev.Old == nil || p.DeletionTimestamp == nil || ev.Old.(*corev1.Pod).DeletionTimestamp != nil {
			return
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
				out[p.Name] = c.Reason + ": " + c.Message
			}
		}
	})
	return &out
}

// zoneOutage runs a cluster of zone-a (a1…a4) and zone-b (b1…b4), one pod per node
// tolerating not-ready for 300 s, makes the named nodes NotReady at 60 s (Ready=False at
// 61 s) and returns the NoExecute taints given and the pods' terminations.
func zoneOutage(t *testing.T, failing ...string) (taints, terminated []string) {
	t.Helper()
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: chaosStages(t), Until: 10 * time.Minute})
	log := taintLog(s)
	pods := workloadstest.WatchPods(s)
	for _, z := range []string{"a", "b"} {
		for i := 1; i <= 4; i++ {
			name := fmt.Sprintf("%s%d", z, i)
			workloadstest.Create(t, s, zoneNode(name, "zone-"+z, 4), pinnedPod("p-"+name, name, notReadyTolerations(300)))
		}
	}
	for _, n := range failing {
		workloadstest.PatchAt(t, s, time.Minute, "Node", "", n, `{"metadata":{"labels":{"node-not-ready.stage.kwok.x-k8s.io":"true"}}}`)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	for _, e := range *pods {
		if e.What == "terminating" {
			terminated = append(terminated, e.Pod+"@"+e.At.String())
		}
	}
	return grep(*log, "NoExecute"), terminated
}

// A zone outage in a 2-zone cluster: at the health pass of 65 s the four nodes of zone-a
// are queued (in name order), then handleDisruption finds zone-a fully disrupted and zone-b
// normal; a fully disrupted zone among healthy ones keeps --node-eviction-rate
// (HealthyQPSFunc: 0.1, unchanged, so SwapLimiter keeps the bucket). The tainting pass takes
// a1 at 65 s with the bucket's token, then one node per 10 s: a2 at 75 s, a3 at 85 s, a4 at
// 95 s. Each pod is deleted 300 s after its node's taint.
func TestZoneOutageTaintsAtTheEvictionRate(t *testing.T) {
	taints, terminated := zoneOutage(t, "a1", "a2", "a3", "a4")
	expectLines(t, "NoExecute taints", taints, []string{
		"a1 +node.kubernetes.io/not-ready:NoExecute@1m5s",
		"a2 +node.kubernetes.io/not-ready:NoExecute@1m15s",
		"a3 +node.kubernetes.io/not-ready:NoExecute@1m25s",
		"a4 +node.kubernetes.io/not-ready:NoExecute@1m35s",
	})
	expectLines(t, "terminations", terminated, []string{"p-a1@6m5s", "p-a2@6m15s", "p-a3@6m25s", "p-a4@6m35s"})
}

// Every node failing: all zones fully disrupted at the 65 s pass, so the controller enters
// full disruption mode (it blames its own connectivity): the queued nodes are made reachable
// again and every tainter's rate is 0. No NoExecute taint, no eviction.
func TestFullDisruptionEvictsNothing(t *testing.T) {
	taints, terminated := zoneOutage(t, "a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4")
	expectLines(t, "NoExecute taints", taints, nil)
	expectLines(t, "terminations", terminated, nil)
}

// 3 of zone-a's 4 nodes failing: 3 not Ready (more than 2) and 3/4 ≥ 0.55
// (--unhealthy-zone-threshold): partial disruption. The zone has 4 nodes, not more than
// --large-cluster-size-threshold (50), so ReducedQPSFunc gives 0: the handleDisruption of the
// 65 s pass stops the zone's tainter before any tainting pass. No taint, no eviction.
func TestPartialDisruptionOfASmallZoneTaintsNothing(t *testing.T) {
	taints, terminated := zoneOutage(t, "a1", "a2", "a3")
	expectLines(t, "NoExecute taints", taints, nil)
	expectLines(t, "terminations", terminated, nil)
}

// Two of zone-a's four failing is not a partial disruption (not more than 2 not Ready): the
// zone stays Normal and both nodes are tainted at the normal rate, 10 s apart.
func TestTwoFailingNodesOfAZoneAreTainted(t *testing.T) {
	taints, _ := zoneOutage(t, "a1", "a2")
	expectLines(t, "NoExecute taints", taints, []string{
		"a1 +node.kubernetes.io/not-ready:NoExecute@1m5s",
		"a2 +node.kubernetes.io/not-ready:NoExecute@1m15s",
	})
}

// A kubelet stopped at 62 s stops renewing the lease. The health pass of 60 s saw the lease
// renewed at 60 s; the pass of 65 s sees its last renewal (62 s), newer than the one saved,
// and takes 65 s as the probe time (tryUpdateNodeHealth). The node is marked Unknown at the
// first pass after 65 s + 50 s (--node-monitor-grace-period), strictly later: 120 s, with
// reason NodeStatusUnknown; unreachable:NoSchedule comes with that update, and the same
// pass queues it for unreachable:NoExecute, given by the tainting pass at 120 s.
//
// The node's stages are left out (only the pod stages run, the node is Ready from its
// manifest): the controller's view is checked, whatever the kubelet's stopped stages do.
// Nothing else is pending after 62 s: the run must still go on until the taint.
func TestStoppedKubeletMarksNodeUnknown(t *testing.T) {
	s, log := stoppedKubelet(t, nil)
	expectLines(t, "taints of dead", grep(*log, "dead"), []string{
		"dead +node.kubernetes.io/not-ready:NoSchedule@0s",
		"dead -node.kubernetes.io/not-ready:NoSchedule@0s",
		"dead +node.kubernetes.io/unreachable:NoSchedule@2m0s",
		"dead +node.kubernetes.io/unreachable:NoExecute@2m0s",
	})
	expectLines(t, "taints of alive", grep(*log, "alive", "unreachable"), nil)
	n := workloadstest.MustGet[*corev1.Node](t, s, "Node", "dead")
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			got := fmt.Sprintf("%s %s %q %v", c.Status, c.Reason, c.Message, c.LastTransitionTime.Sub(sim.Epoch))
			if want := `Unknown NodeStatusUnknown "Kubelet stopped posting node status." 2m0s`; got != want {
				t.Errorf("Ready: got %s, want %s", got, want)
			}
		}
	}
	if got := s.Elapsed(); got != 2*time.Minute {
		t.Errorf("run ended at %v, want 2m0s (the taint is the last consequence)", got)
	}
}

// stoppedKubelet runs nodes "dead" and "alive", Ready from their manifests, with only the
// pod stages, and stops dead's kubelet at 62 s. It returns the simulator and its taint log.
func stoppedKubelet(t *testing.T, cp *controlplane.Flags) (*sim.Simulator, *[]string) {
	t.Helper()
	var podStages []*stages.Stage
	for _, st := range stages.Default() {
		if st.Kind == "Pod" {
			podStages = append(podStages, st)
		}
	}
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: podStages, ControlPlane: cp})
	log := taintLog(s)
	ready := func(n *corev1.Node) *corev1.Node {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}}
		return n
	}
	workloadstest.Create(t, s, ready(zoneNode("dead", "", 4)), ready(zoneNode("alive", "", 4)))
	s.Clock().At(sim.Epoch.Add(62*time.Second), func() {
		if err := s.SetKubelet("dead", sim.KubeletStopped); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	return s, log
}

// A settled cluster's health passes skip the nodes (nodelifecycle/settled.go), and a kubelet
// that stops after two hours of them is seen as one stopped at 62 s is: the stop at 2h0m2s
// is after the pass of 2h0m0s, the pass of 2h0m5s sees the renewal at the stop, newer than
// the one saved two hours earlier, and takes 2h0m5s as the probe time; the node is Unknown
// at the first pass after 2h0m55s: 2h1m0s, as TestStoppedKubeletMarksNodeUnknown's node is at
// 62 s + 58 s.
func TestSettledPassesSkipTheNodes(t *testing.T) {
	var podStages []*stages.Stage
	for _, st := range stages.Default() {
		if st.Kind == "Pod" {
			podStages = append(podStages, st)
		}
	}
	s, err := sim.New(context.Background(), sim.Config{Seed: 1, Stages: podStages})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	c := workloads.Install(s).Controller("Node").(*nodelifecycle.Controller)
	log := taintLog(s)
	ready := func(n *corev1.Node) *corev1.Node {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}}
		return n
	}
	workloadstest.Create(t, s, ready(zoneNode("dead", "", 4)), ready(zoneNode("alive", "", 4)))
	stop := sim.Epoch.Add(2*time.Hour + 2*time.Second)
	s.Clock().At(stop, func() {
		if err := s.SetKubelet("dead", sim.KubeletStopped); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	expectLines(t, "unreachable taints of dead", grep(*log, "dead", "unreachable"), []string{
		"dead +node.kubernetes.io/unreachable:NoSchedule@2h1m0s",
		"dead +node.kubernetes.io/unreachable:NoExecute@2h1m0s",
	})
	// Passes every 5 s from 0 to 2h1m0s: 1,453. Full: the first (before the nodes), the one
	// after they came, those from the stop until the node is tainted and settled no more
	// (2h0m5s … 2h1m0s, 12); every other one is skipped.
	full, skipped := c.Passes()
	if full+skipped != 1453 {
		t.Errorf("%d passes, want 1453 (every 5 s up to 2h1m0s)", full+skipped)
	}
	if full > 20 {
		t.Errorf("%d full passes of %d, want the settled ones skipped", full, full+skipped)
	}
}

// The settings reach the controller: with --node-monitor-grace-period=20s and
// --node-monitor-period=2s the passes fall at 62 s (lease renewed at 62 s: the stop comes
// after the pass at that instant, or it observed the renewal at the stop: probe 62 s either
// way), then 64 s, … and the node is Unknown at the first pass after 82 s: 84 s.
func TestStoppedKubeletHonoursTheFlags(t *testing.T) {
	cp := controlplane.Defaults()
	cp.NodeMonitorGracePeriod, cp.NodeMonitorPeriod = 20*time.Second, 2*time.Second
	_, log := stoppedKubelet(t, &cp)
	expectLines(t, "unreachable taints of dead", grep(*log, "dead", "unreachable"), []string{
		"dead +node.kubernetes.io/unreachable:NoSchedule@1m24s",
		"dead +node.kubernetes.io/unreachable:NoExecute@1m24s",
	})
}

// Without failures the controller's passes are background work: a run ends when its pods
// are Running (stage-fast: at once), and no node keeps a taint.
func TestHealthyRunEnds(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default()})
	workloadstest.Create(t, s, zoneNode("n1", "zone-a", 4), zoneNode("n2", "zone-b", 4), workloadstest.Deployment("web", 4))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if got := s.Elapsed(); got > time.Second {
		t.Errorf("run ended at %v, want at once", got)
	}
	for _, n := range workloadstest.List[*corev1.Node](t, s, "Node") {
		if len(n.Spec.Taints) > 0 {
			t.Errorf("%s: taints %v at the end", n.Name, n.Spec.Taints)
		}
	}
}

// Without stages no kubelet reports: nodes get no not-ready taint (they would keep it for
// ever), and the report's notes say what a real cluster would do instead.
func TestNoStagesNoNodeTaintAndANote(t *testing.T) {
	r, err := workloads.Run(context.Background(), workloads.Scenario{
		Config: sim.Config{Seed: 1, Stages: []*stages.Stage{}},
		Nodes:  objects(zoneNode("n1", "", 4)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Nodes) != 1 || len(r.Nodes[0].Taints) != 0 {
		t.Errorf("nodes: %+v, want n1 without taints", r.Nodes)
	}
	if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.HasPrefix(n, "no stages: no kubelet reports node status") }) {
		t.Errorf("notes %q lack the no-kubelet note", r.Notes)
	}
}

// A node that recovers before its pods' tolerations run out keeps them. NotReady at 61 s,
// not-ready:NoExecute at 65 s as above; the chaos label is removed at 120 s, KWOK's
// node-initialize stage (no delay) reports Ready at once, so not-ready:NoSchedule goes at
// 120 s (the node update); the health pass of 120 s ran before that update (it was due
// first), so the next one, at 125 s, finds the node Ready and removes the NoExecute taint
// (processTaintBaseEviction → markNodeAsReachable), which cancels the pods' evictions due at
// 365 s.
func TestRecoveredNodeKeepsItsPods(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: chaosStages(t), Until: 10 * time.Minute})
	taints := taintLog(s)
	pods := workloadstest.WatchPods(s)
	workloadstest.Create(t, s, zoneNode("flaky", "", 4), zoneNode("other", "", 4), pinnedPod("stays", "flaky", notReadyTolerations(300)))
	workloadstest.PatchAt(t, s, time.Minute, "Node", "", "flaky", `{"metadata":{"labels":{"node-not-ready.stage.kwok.x-k8s.io":"true"}}}`)
	workloadstest.PatchAt(t, s, 2*time.Minute, "Node", "", "flaky", `{"metadata":{"labels":{"node-not-ready.stage.kwok.x-k8s.io":null}}}`)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	expectLines(t, "taints of flaky after 1m", grep(*taints, "flaky", "not-ready")[2:], []string{
		"flaky +node.kubernetes.io/not-ready:NoSchedule@1m1s",
		"flaky +node.kubernetes.io/not-ready:NoExecute@1m5s",
		"flaky -node.kubernetes.io/not-ready:NoSchedule@2m0s",
		"flaky -node.kubernetes.io/not-ready:NoExecute@2m5s",
	})
	for _, e := range *pods {
		if e.What == "terminating" || e.What == "gone" {
			t.Errorf("%v: the eviction was not cancelled", e)
		}
	}
}
