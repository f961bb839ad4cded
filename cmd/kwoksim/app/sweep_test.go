package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	"k8s.io/kubernetes/pkg/apis/batch"
	batchvalidation "k8s.io/kubernetes/pkg/apis/batch/validation"
	"k8s.io/kubernetes/pkg/apis/core"
	corevalidation "k8s.io/kubernetes/pkg/apis/core/validation"
	jobregistry "k8s.io/kubernetes/pkg/registry/batch/job"
	psaapi "k8s.io/pod-security-admission/api"
	psapolicy "k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/sweep"
	"github.com/kwoksim/kwoksim/version"
)

const sweeps = "../../../testdata/sweep/"

var runtimeField = regexp.MustCompile(`(?s)"runtime": \{.*?\}`)

// reportJSON is the report as `kwoksim run -o json` prints it, runtime blanked.
func reportJSON(t *testing.T, r *analysis.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := analysis.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	return runtimeField.ReplaceAllString(b.String(), `"runtime": {}`)
}

// withoutProvenance is the report without its provenance, for comparing the same run made by
// another command line (sweep --index, run) or from files at other paths.
func withoutProvenance(r *analysis.Report) *analysis.Report {
	c := *r
	c.Provenance = nil
	return &c
}

func decodeRun(t *testing.T, data []byte) *sweep.Run {
	t.Helper()
	var run sweep.Run
	if err := json.Unmarshal(data, &run); err != nil || run.Kind != sweep.RunKind || run.Report == nil {
		t.Fatalf("not a SweepRun (%v):\n%s", err, data)
	}
	return &run
}

func decodeResult(t *testing.T, data string) *sweep.Result {
	t.Helper()
	var res sweep.Result
	if err := json.Unmarshal([]byte(data), &res); err != nil || res.Kind != sweep.ResultKind {
		t.Fatalf("not a SweepResult (%v):\n%s", err, data)
	}
	return &res
}

// The comparison: the same 12 pods of 1 CPU on ten 4-CPU nodes, spread by
// LeastAllocated, packed by MostAllocated. The sweep runs each as a child process; each
// combination's report is the report of the same `kwoksim run` run alone, and of
// `sweep --index`; collecting the kept reports gives the same comparison.
func TestSweepMostAllocatedUsesFewerNodes(t *testing.T) {
	dir := t.TempDir()
	runs, csvDir, plotsDir := filepath.Join(dir, "runs"), filepath.Join(dir, "csv"), filepath.Join(dir, "plots")
	matrix := sweeps + "scheduler-configs.yaml"
	code, out, errOut := kwoksim(t, "sweep", matrix, "-o", "json", "--reports", runs, "--csv", csvDir, "--plots", plotsDir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	res := decodeResult(t, out)
	if len(res.Combinations) != 2 || res.Incomplete {
		t.Fatalf("%d combinations, incomplete %v", len(res.Combinations), res.Incomplete)
	}
	least, most := res.Combinations[0], res.Combinations[1]
	if least.Label != "schedulerConfig=../scheduler-config/least-allocated.yaml" || most.Label != "schedulerConfig=../scheduler-config/most-allocated.yaml" {
		t.Errorf("labels %q, %q", least.Label, most.Label)
	}
	for _, row := range res.Combinations {
		if row.Status != sweep.StatusDone || row.Figures == nil || row.Summary.Pods.Scheduled != 12 {
			t.Fatalf("combination %d: %+v", row.Index, row)
		}
	}
	if most.Summary.Nodes.Used >= least.Summary.Nodes.Used {
		t.Errorf("MostAllocated used %d nodes, LeastAllocated %d: packing should use fewer", most.Summary.Nodes.Used, least.Summary.Nodes.Used)
	}
	if least.Summary.Nodes.Used != 10 || most.Summary.Nodes.Used != 3 {
		t.Errorf("nodes used: LeastAllocated %d, MostAllocated %d; want 10 and 3", least.Summary.Nodes.Used, most.Summary.Nodes.Used)
	}

	// Each kept report is the report of its command line run alone, and of --index.
	for i := range 2 {
		data, err := os.ReadFile(filepath.Join(runs, []string{"0.json", "1.json"}[i]))
		if err != nil {
			t.Fatal(err)
		}
		kept := decodeRun(t, data)
		if kept.Index != i || kept.Combinations != 2 || kept.Label != res.Combinations[i].Label {
			t.Errorf("kept run %d: index %d of %d, label %q", i, kept.Index, kept.Combinations, kept.Label)
		}
		code, direct, errOut := kwoksim(t, append(kept.Args, "-o", "json")...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", kept.Args, code, errOut)
		}
		if got, want := reportJSON(t, kept.Report), runtimeField.ReplaceAllString(direct, `"runtime": {}`); got != want {
			t.Errorf("combination %d in the sweep and `kwoksim %s` alone differ:\n%s", i, strings.Join(kept.Args, " "), lineDiff([]byte(want), []byte(got)))
		}
		if i == 1 {
			code, indexOut, errOut := kwoksim(t, "sweep", matrix, "--index", "1", "-o", "json")
			if code != exitOK {
				t.Fatalf("--index 1: exit %d: %s", code, errOut)
			}
			// Provenance included: --index records the command line of the run it is.
			if got, want := reportJSON(t, decodeRun(t, []byte(indexOut)).Report), reportJSON(t, kept.Report); got != want {
				t.Errorf("--index 1 and the sweep's combination 1 differ:\n%s", lineDiff([]byte(want), []byte(got)))
			}
			// A pod's log may carry a note before the JSON; collect skips it.
			idxDir := filepath.Join(dir, "logs")
			if err := os.Mkdir(idxDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(idxDir, "pod-1.log"), []byte("kwoksim: note: something\n"+indexOut), 0o644); err != nil {
				t.Fatal(err)
			}
			code, collected, errOut := kwoksim(t, "sweep", "collect", idxDir, "-o", "json")
			if code != exitOK || !strings.Contains(errOut, "1 of 2 combinations have no report") {
				t.Fatalf("collect of one --index output: exit %d: %s", code, errOut)
			}
			c := decodeResult(t, collected)
			if c.Combinations[0].Status != sweep.StatusNotRun || c.Combinations[1].Status != sweep.StatusDone ||
				c.Combinations[1].Summary.Nodes.Used != 3 || !c.Incomplete {
				t.Errorf("collect of combination 1 alone: %+v", c.Combinations)
			}
		}
	}

	// Collecting the kept reports gives the sweep's own comparison, byte for byte.
	code, collected, errOut := kwoksim(t, "sweep", "collect", runs, "-o", "json")
	if code != exitOK || errOut != "" {
		t.Fatalf("collect: exit %d: %s", code, errOut)
	}
	if collected != out {
		t.Errorf("collect and the sweep differ:\n%s", lineDiff([]byte(out), []byte(collected)))
	}
	code, table, _ := kwoksim(t, "sweep", "collect", runs)
	used := regexp.MustCompile(`(?m)^(\d)\s+schedulerConfig=\S+\s+done\s+12\s+12\s+0\s+10\s+(\d+)\s`).FindAllStringSubmatch(table, -1)
	if code != exitOK || len(used) != 2 || used[0][2] != "10" || used[1][2] != "3" {
		t.Errorf("the table's USED column should read 10, then 3:\n%s", table)
	}
	csv, err := os.ReadFile(filepath.Join(csvDir, sweep.CSVFile))
	if err != nil || len(strings.Split(strings.TrimSpace(string(csv)), "\n")) != 3 || !strings.Contains(string(csv), "nodes.used") {
		t.Errorf("%s: %v\n%s", sweep.CSVFile, err, csv)
	}
	if pngs, _ := filepath.Glob(filepath.Join(plotsDir, "sweep-*.png")); len(pngs) != 4 {
		t.Errorf("%d PNG plots, want 4", len(pngs))
	}
}

// A matrix's base.disableAdmissionPlugins reaches its runs: with Priority off, the pods of a
// Deployment that give spec.priority without a class are created and scheduled, where the same
// matrix without it has them refused (the workload failing, as in
// TestDisableAdmissionPluginsPriority). A featureGates axis value that turns
// OpportunisticBatching on makes the sweep warn once, naming the value, before the runs.
func TestSweepGatesAndAdmissionPlugins(t *testing.T) {
	dir := t.TempDir()
	nodes, err := filepath.Abs(seedNodes)
	if err != nil {
		t.Fatal(err)
	}
	head := "apiVersion: kwoksim/v1alpha1\nkind: Sweep\nbase:\n  nodes: [" + nodes + "]\n  workload: [deployment.yaml]\n"
	files := map[string]string{
		"deployment.yaml": rankedDeployment,
		"priority-off.yaml": head + "  disableAdmissionPlugins: [Priority]\n" +
			"matrix:\n  featureGates: [{}, {OpportunisticBatching: true}]\n",
		"defaults.yaml": head + "matrix:\n  seed: [1]\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	off := filepath.Join(dir, "priority-off.yaml")
	code, out, errOut := kwoksim(t, "sweep", off, "--parallel", "2", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	warning := "kwoksim: warning: " + off + ": the runs of matrix.featureGates[1] are not reproducible (featureGates): OpportunisticBatching makes decisions on the wall clock: "
	if !strings.HasPrefix(errOut, warning) || strings.Count(errOut, "not reproducible") != 1 {
		t.Errorf("stderr does not start with %q, or says it more than once:\n%s", warning, errOut)
	}
	res := decodeResult(t, out)
	for i, value := range []string{"(defaults)", "OpportunisticBatching=true"} {
		row := res.Combinations[i]
		if row.Status != sweep.StatusDone || row.Values.FeatureGates == nil || *row.Values.FeatureGates != value {
			t.Fatalf("combination %d: %+v, want done with featureGates %s", i, row, value)
		}
		if row.Summary.Pods.Scheduled != 2 || row.Summary.Workloads.Failing != 0 {
			t.Errorf("combination %d with Priority off: %d pods scheduled, %d failing workloads; want 2 and none", i, row.Summary.Pods.Scheduled, row.Summary.Workloads.Failing)
		}
	}

	code, out, errOut = kwoksim(t, "sweep", filepath.Join(dir, "defaults.yaml"), "-o", "json")
	if code != exitOK || strings.Contains(errOut, "reproducible") {
		t.Fatalf("without disableAdmissionPlugins: exit %d: %s", code, errOut)
	}
	if row := decodeResult(t, out).Combinations[0]; row.Status != sweep.StatusDone || row.Summary.Pods.Total != 0 || row.Summary.Workloads.Failing != 1 {
		t.Errorf("without disableAdmissionPlugins: %+v; want no pod created and the Deployment failing", row)
	}
}

// An interrupted sweep stops its runs, writes the comparison of what finished (the run that was
// stopped with its figures so far) and exits 130.
func TestSweepInterrupted(t *testing.T) {
	dir := t.TempDir()
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// Combination 0 is the seed scenario on 1,000 nodes; combination 1 has 10,000 pods and
	// takes long enough to be interrupted.
	matrix := filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(matrix, []byte(`apiVersion: kwoksim/v1alpha1
kind: Sweep
base:
  workload: [`+abs(seedWorkload)+`]
matrix:
  nodes: [{template: `+abs(seedNodes)+`, count: 1000}]
  replicaScale: [1, 1000]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(dir, "runs")
	// The sweep leads a process group of its own, which gets the signal as a terminal's Ctrl-C
	// would: each child must still hear it only once, from its parent.
	cmd := exec.Command(os.Args[0], "sweep", matrix, "--parallel", "1", "--reports", runs, "-o", "json")
	cmd.Env = append(os.Environ(), "KWOKSIM_TEST_AS_MAIN=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(runs, "0.json")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("combination 0 did not finish within a minute; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second) // let combination 1 start simulating
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd); code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, stderr.String())
	}
	res := decodeResult(t, stdout.String())
	if !res.Incomplete || len(res.Combinations) != 2 {
		t.Fatalf("incomplete %v, %d combinations", res.Incomplete, len(res.Combinations))
	}
	if r := res.Combinations[0]; r.Status != sweep.StatusDone || r.Summary.Pods.Running != 10 {
		t.Errorf("combination 0: %+v", r)
	}
	if r := res.Combinations[1]; r.Status != sweep.StatusIncomplete || r.Figures == nil || r.Summary.Pods.Running >= 10000 {
		t.Errorf("combination 1 should be the interrupted run, with its figures so far: %+v", r)
	} else {
		t.Logf("combination 1 was interrupted with %d pods of 10,000 running", r.Summary.Pods.Running)
	}
	if !strings.Contains(stderr.String(), "interrupted: 1 of 2 combinations finished") {
		t.Errorf("stderr does not say what finished:\n%s", stderr.String())
	}
}

// --emit-job writes an Indexed Job and a ConfigMap that the apiserver's own defaulting and
// validation accept; the inputs in the ConfigMap, laid out as the volume mounts them, run
// each combination as the local files do.
func TestSweepEmitJob(t *testing.T) {
	dir := t.TempDir()
	// A matrix with a directory of inputs (stages) and files from two directories.
	matrix := filepath.Join(dir, "my sweep.yaml")
	abs, _ := filepath.Abs("../../../testdata")
	if err := os.WriteFile(matrix, []byte(`apiVersion: kwoksim/v1alpha1
kind: Sweep
base:
  nodes: [`+abs+`/scheduler-config/nodes.yaml]
  workload: [`+abs+`/scheduler-config/deployment.yaml]
  stages: [`+abs+`/kwok/stages/node/fast, `+abs+`/kwok/stages/pod/general]
  until: 1m
matrix:
  schedulerConfig: ["", `+abs+`/scheduler-config/most-allocated.yaml]
  replicaScale: [0.5, 2]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "job")
	code, stdout, errOut := kwoksim(t, "sweep", matrix, "--emit-job", out, "--image", "my/kwoksim:v1", "--parallel", "3")
	// The Job's name is printed: `kubectl wait job/NAME` needs it.
	if code != exitOK || !strings.Contains(stdout, "the Indexed Job kwoksim-sweep-my-sweep of 4 completions, image my/kwoksim:v1\n") {
		t.Fatalf("exit %d: %s%s", code, stdout, errOut)
	}
	read := func(name string, obj any) {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.UnmarshalStrict(data, obj); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var job batchv1.Job
	var cm corev1.ConfigMap
	read(sweep.JobFile, &job)
	read(sweep.ConfigMapFile, &cm)

	// What the apiserver does on create: default the versioned object, convert it to the
	// internal type, prepare it (the Job's generated selector) and validate it.
	job.Namespace, job.UID, cm.Namespace = "default", types.UID("8d4f0f1e-6b1c-4f53-9d43-2a8c1f1a0c01"), "default"
	legacyscheme.Scheme.Default(&job)
	legacyscheme.Scheme.Default(&cm)
	var internalJob batch.Job
	var internalCM core.ConfigMap
	if err := legacyscheme.Scheme.Convert(&job, &internalJob, nil); err != nil {
		t.Fatal(err)
	}
	if err := legacyscheme.Scheme.Convert(&cm, &internalCM, nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	jobregistry.Strategy.PrepareForCreate(ctx, &internalJob)
	errs := jobregistry.Strategy.Validate(ctx, &internalJob)
	errs = append(errs, batchvalidation.ValidateJobCreate(&internalJob, batchvalidation.JobValidationOptions{RequirePrefixedLabels: true})...)
	errs = append(errs, corevalidation.ValidateConfigMap(&internalCM)...)
	if err := errs.ToAggregate(); err != nil {
		t.Fatalf("the apiserver would reject the manifests: %v", err)
	}
	spec := internalJob.Spec
	if *spec.CompletionMode != batch.IndexedCompletion || *spec.Completions != 4 || *spec.Parallelism != 3 {
		t.Errorf("job spec: mode %v, completions %d, parallelism %d", *spec.CompletionMode, *spec.Completions, *spec.Parallelism)
	}
	c := spec.Template.Spec.Containers[0]
	if c.Image != "my/kwoksim:v1" || strings.Join(c.Args, " ") != "sweep /inputs/sweep.yaml --index $(JOB_COMPLETION_INDEX) -o json" {
		t.Errorf("container: image %s, args %v", c.Image, c.Args)
	}
	if len(c.Env) != 1 || c.Env[0].Name != "JOB_COMPLETION_INDEX" || c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("env: %+v", c.Env)
	}
	if job.Name != "kwoksim-sweep-my-sweep" || cm.Name != "kwoksim-sweep-my-sweep-inputs" {
		t.Errorf("names %s, %s", job.Name, cm.Name)
	}
	// The pod is admitted in a namespace enforcing the restricted Pod Security Standard: the
	// apiserver's own checks, on the defaulted pod template.
	evaluator, err := psapolicy.NewEvaluator(psapolicy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := job.Spec.Template
	restricted := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}
	if res := psapolicy.AggregateCheckResults(evaluator.EvaluatePod(restricted, &tmpl.ObjectMeta, &tmpl.Spec)); !res.Allowed {
		t.Errorf("the restricted Pod Security Standard refuses the pod: %s: %s", res.ForbiddenReason(), res.ForbiddenDetail())
	}
	// It runs as the Dockerfile's user, on a read-only root, and uses an image already on the node.
	vc := tmpl.Spec.Containers[0]
	if vc.ImagePullPolicy != corev1.PullIfNotPresent || *vc.SecurityContext.RunAsUser != sweep.RunAsUser || !*vc.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("container: imagePullPolicy %s, securityContext %+v", vc.ImagePullPolicy, vc.SecurityContext)
	}
	if dockerfile, err := os.ReadFile("../../../Dockerfile"); err != nil || !strings.Contains(string(dockerfile), fmt.Sprintf("\nUSER %d:%d\n", sweep.RunAsUser, sweep.RunAsUser)) {
		t.Errorf("the Dockerfile's image does not run as user %d (%v)", sweep.RunAsUser, err)
	}
	// Without --image: this binary's version, never :latest.
	code, stdout, errOut = kwoksim(t, "sweep", matrix, "--emit-job", filepath.Join(dir, "job-default"))
	wantImage := sweep.DefaultImage(version.Get().Version)
	var defaultJob batchv1.Job
	if data, err := os.ReadFile(filepath.Join(dir, "job-default", sweep.JobFile)); code != exitOK || err != nil || yaml.Unmarshal(data, &defaultJob) != nil {
		t.Fatalf("without --image: exit %d: %v %s%s", code, err, stdout, errOut)
	}
	if got := defaultJob.Spec.Template.Spec.Containers[0].Image; got != wantImage || strings.HasSuffix(got, ":latest") || !strings.Contains(stdout, "image "+wantImage+"\n") {
		t.Errorf("the default image is %s (stdout %q), want %s", got, stdout, wantImage)
	}

	// Lay the ConfigMap out as the volume's items do, and run combination 3 from there.
	vol := filepath.Join(dir, "inputs")
	items := internalJob.Spec.Template.Spec.Volumes[0].ConfigMap.Items
	for _, it := range items {
		p := filepath.Join(vol, filepath.FromSlash(it.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(cm.Data[it.Key]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(items) != len(cm.Data) {
		t.Errorf("%d volume items for %d ConfigMap keys", len(items), len(cm.Data))
	}
	code, inCluster, errOut := kwoksim(t, "sweep", filepath.Join(vol, sweep.MatrixKey), "--index", "3", "-o", "json")
	if code != exitOK {
		t.Fatalf("combination 3 from the ConfigMap's files: exit %d: %s\n%s", code, errOut, cm.Data[sweep.MatrixKey])
	}
	code, local, errOut := kwoksim(t, "sweep", matrix, "--index", "3", "-o", "json")
	if code != exitOK {
		t.Fatalf("combination 3: exit %d: %s", code, errOut)
	}
	a, b := decodeRun(t, []byte(inCluster)), decodeRun(t, []byte(local))
	if got, want := reportJSON(t, withoutProvenance(a.Report)), reportJSON(t, withoutProvenance(b.Report)); got != want {
		t.Errorf("combination 3 from the ConfigMap and from the local files differ:\n%s", lineDiff([]byte(want), []byte(got)))
	}
	if b.Report.Summary.Pods.Total != 24 || len(b.Report.Transitions) == 0 {
		t.Errorf("combination 3 should run 24 pods with the general stages: %+v", b.Report.Summary.Pods)
	}
}
