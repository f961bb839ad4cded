package app

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
)

const reportSchema = "../../../analysis/report.schema.json"

// checkReportSchema checks a JSON report against the report's schema.
func checkReportSchema(t *testing.T, data string) {
	t.Helper()
	sch, err := jsonschema.NewCompiler().Compile(reportSchema)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("the report does not match %s: %v", reportSchema, err)
	}
}

// rankedPods are pods that give spec.priority without a priorityClassName, as
// scheduler_perf's do: a Deployment of two and a bare Pod, each tolerating the seed node's
// taint.
const rankedDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ranked
spec:
  replicas: 2
  selector:
    matchLabels: {app: ranked}
  template:
    metadata:
      labels: {app: ranked}
    spec:
      priority: 10
      tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
      containers: [{name: c, image: fake-image}]
`

const rankedPod = `apiVersion: v1
kind: Pod
metadata:
  name: solo
spec:
  priority: 10
  tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
  containers: [{name: c, image: fake-image}]
`

// priorityRefusal is the Priority admission plugin's message for such a pod
// (plugin/pkg/admission/priority): with no class, the priority it computes is 0.
const priorityRefusal = "the integer value of priority (10) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name"

// The Priority admission plugin refuses a pod that gives spec.priority itself: the
// Deployment's creates are refused (FailedCreate warnings, the workload failing), a bare Pod
// is bad input. With --disable-admission-plugins Priority both are created and scheduled with
// the priority they give, and the report records the flag.
func TestDisableAdmissionPluginsPriority(t *testing.T) {
	dir := t.TempDir()
	deployment, pod := filepath.Join(dir, "deployment.yaml"), filepath.Join(dir, "pod.yaml")
	for p, data := range map[string]string{deployment: rankedDeployment, pod: rankedPod} {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// By default: refused.
	code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", deployment, "-o", "json")
	if code != exitOK {
		t.Fatalf("default run: exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if len(r.Pods) != 0 {
		t.Errorf("default run: %d pods, want none: Priority admission refuses them", len(r.Pods))
	}
	refused := false
	for _, w := range r.Warnings {
		if w.Kind == "ReplicaSet" && w.Reason == "FailedCreate" && strings.Contains(w.Message, priorityRefusal) {
			refused = true
		}
	}
	if !refused {
		t.Errorf("default run: no FailedCreate warning saying %q: %+v", priorityRefusal, r.Warnings)
	}
	if r.Summary.Workloads.Failing != 1 {
		t.Errorf("default run: %d failing workloads, want the Deployment", r.Summary.Workloads.Failing)
	}
	if p := r.Provenance; p == nil || p.DisabledAdmissionPlugins != nil || p.FeatureGates != nil {
		t.Errorf("default run: provenance %+v, want no gates or disabled plugins", p)
	}
	code, out, errOut = kwoksim(t, "run", "--nodes", seedNodes, "--workload", pod)
	if code != exitBadInput || out != "" || !strings.Contains(errOut, pod+":1: ") || !strings.Contains(errOut, `pods "solo" is forbidden: `+priorityRefusal) {
		t.Errorf("default run of the bare pod: exit %d, stdout %q, stderr %q; want exit 2 with the refusal", code, out, errOut)
	}

	// Priority off: created with priority 10, and scheduled.
	state := filepath.Join(dir, "state.yaml")
	code, out, errOut = kwoksim(t, "run", "--nodes", seedNodes, "--workload", deployment, "--workload", pod,
		"--disable-admission-plugins", "Priority", "--state-out", state, "-o", "json")
	if code != exitOK {
		t.Fatalf("--disable-admission-plugins Priority: exit %d: %s", code, errOut)
	}
	checkReportSchema(t, out)
	r = decodeReport(t, out)
	if len(r.Pods) != 3 || r.Summary.Pods.Scheduled != 3 || len(r.Warnings) != 0 {
		t.Errorf("--disable-admission-plugins Priority: %d pods, %d scheduled, warnings %+v; want 3 scheduled, no warning",
			len(r.Pods), r.Summary.Pods.Scheduled, r.Warnings)
	}
	if got := r.Provenance.DisabledAdmissionPlugins; !reflect.DeepEqual(got, []string{"Priority"}) {
		t.Errorf("provenance.disabledAdmissionPlugins = %q, want [Priority]", got)
	}
	pods := 0
	for _, it := range readState(t, state).Items {
		if it["kind"] != "Pod" {
			continue
		}
		pods++
		spec := it["spec"].(map[string]any)
		if spec["priority"] != float64(10) || spec["nodeName"] != "kwok-node-0" {
			t.Errorf("pod %v: priority %v on node %v, want 10 on kwok-node-0", it["metadata"].(map[string]any)["name"], spec["priority"], spec["nodeName"])
		}
	}
	if pods != 3 {
		t.Errorf("the state holds %d pods, want 3", pods)
	}
}

// --feature-gates reaches the process's feature gate for the run, and a later run without it
// puts kwoksim's deterministic settings back. Turning OpportunisticBatching on again makes the
// run not reproducible: a warning before the run says so, once, and so do the report's notes;
// the provenance records the gates.
func TestFeatureGatesFlag(t *testing.T) {
	const warning = "kwoksim: warning: this run is not reproducible (--feature-gates): OpportunisticBatching makes decisions on the wall clock: "
	code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload, "--feature-gates", "OpportunisticBatching=true", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !utilfeature.DefaultFeatureGate.Enabled("OpportunisticBatching") {
		t.Error("OpportunisticBatching is off after a run with --feature-gates OpportunisticBatching=true")
	}
	if !strings.HasPrefix(errOut, warning) || strings.Count(errOut, "not reproducible") != 1 {
		t.Errorf("stderr does not start with %q, or says it more than once:\n%s", warning, errOut)
	}
	checkReportSchema(t, out)
	r := decodeReport(t, out)
	if !slices.ContainsFunc(r.Notes, func(n string) bool {
		return strings.HasPrefix(n, "this run is not reproducible (--feature-gates): OpportunisticBatching makes decisions on the wall clock") &&
			strings.HasSuffix(n, "the same inputs and seed may give another report")
	}) {
		t.Errorf("the report's notes do not say the run is not reproducible: %q", r.Notes)
	}
	if got := r.Provenance.FeatureGates; !reflect.DeepEqual(got, map[string]bool{"OpportunisticBatching": true}) {
		t.Errorf("provenance.featureGates = %v", got)
	}

	// Off, as kwoksim sets it anyway: nothing to warn about. And the gate is off again.
	for _, args := range [][]string{{"--feature-gates", "OpportunisticBatching=false"}, nil} {
		code, out, errOut = kwoksim(t, append([]string{"run", "--nodes", seedNodes, "--workload", seedWorkload, "-o", "json"}, args...)...)
		if code != exitOK {
			t.Fatalf("%q: exit %d: %s", args, code, errOut)
		}
		if utilfeature.DefaultFeatureGate.Enabled("OpportunisticBatching") {
			t.Errorf("%q: OpportunisticBatching stayed on", args)
		}
		if r := decodeReport(t, out); strings.Contains(errOut, "reproducible") || len(r.Notes) != 0 {
			t.Errorf("%q: stderr %q, notes %q; want no warning", args, errOut, r.Notes)
		}
	}
}

// A refused gate leaves the process able to run: the feature gate is not left holding it.
// (component-base's SetFromMap records a map before validating it.)
func TestRefusedFeatureGateDoesNotStay(t *testing.T) {
	if code, _, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--feature-gates", "Nope=true"); code != exitBadInput {
		t.Fatalf("exit %d, want 2: %s", code, errOut)
	}
	if code, _, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload); code != exitOK {
		t.Errorf("the next run: exit %d: %s", code, errOut)
	}
}

// A plan forwards both flags to its runs, as given, and checks them itself first.
func TestPlanForwardsGateFlags(t *testing.T) {
	cmd := newPlanCommand(nil)
	if err := cmd.ParseFlags([]string{"--feature-gates", "SchedulerAsyncPreemption=true,OpportunisticBatching=false", "--feature-gates", "OpportunisticBatching=true",
		"--disable-admission-plugins", "Priority,LimitRanger", "--disable-admission-plugins", "ResourceQuota"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"--feature-gates=OpportunisticBatching=true,SchedulerAsyncPreemption=true",
		"--disable-admission-plugins=Priority", "--disable-admission-plugins=LimitRanger", "--disable-admission-plugins=ResourceQuota"}
	got := forwardArgs(cmd.Flags())
	if !reflect.DeepEqual(got, want) {
		t.Errorf("forwarded %q, want %q", got, want)
	}
	run := newRunCommand(nil)
	if err := run.ParseFlags(got); err != nil {
		t.Fatalf("run does not take the forwarded flags: %v", err)
	}
	g := gatesOf(run.Flags())
	if !reflect.DeepEqual(g.gates.m, map[string]bool{"OpportunisticBatching": true, "SchedulerAsyncPreemption": true}) ||
		!reflect.DeepEqual(g.disabled, []string{"Priority", "LimitRanger", "ResourceQuota"}) {
		t.Errorf("the run got gates %v and disabled plugins %q", g.gates.m, g.disabled)
	}
	note := g.nondeterminismNote()
	for _, gate := range []string{"OpportunisticBatching makes decisions on the wall clock", "SchedulerAsyncPreemption makes decisions on goroutine timing"} {
		if !strings.Contains(note, gate) {
			t.Errorf("the note does not say %q: %s", gate, note)
		}
	}

	// End to end: the runs create the pods the Priority plugin would refuse, so one node
	// meets the goal (without the flag every run fails on the Deployment's refused creates).
	deployment := filepath.Join(t.TempDir(), "deployment.yaml")
	if err := os.WriteFile(deployment, []byte(rankedDeployment), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := kwoksim(t, "plan", "--node-template", cpu4Template, "--workload", deployment, "--disable-admission-plugins", "Priority",
		"--parallel", "2", "-o", "json")
	if code != exitOK {
		t.Fatalf("plan --disable-admission-plugins Priority: exit %d: %s", code, errOut)
	}
	if tp := decodePlan(t, out).Templates[0]; tp.NodesNeeded == nil || *tp.NodesNeeded != 1 {
		t.Errorf("plan --disable-admission-plugins Priority: needs %v nodes, want 1: %+v", tp.NodesNeeded, tp)
	}

	code, out, errOut = kwoksim(t, "plan", "--node-template", cpu4Template, "--workload", cpuWorkload, "--feature-gates", "SchedulerAsyncAPICalls=true")
	if code != exitBadInput || out != "" || strings.Contains(errOut, "plan: ") ||
		!strings.Contains(errOut, "--feature-gates: SchedulerAsyncAPICalls=true is not supported") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 before any run", code, out, errOut)
	}
}
