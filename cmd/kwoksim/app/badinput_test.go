package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	bad      = "../../../testdata/bad/"
	loadErrs = "../../../testdata/load/errors/"
	tinyNode = bad + "tiny-node.yaml"
	// nodePoolFile is a valid NodePool.
	nodePoolFile = "../../../testdata/inputs/nodepool.yaml"
)

// Every bad input, end to end: the exit code, a message naming the file (with the line or
// field path where there is one) and what was expected, no Go panic trace, and nothing
// written: no report for run (REPORT is replaced by a path in an empty directory), no output
// directory for import (OUT likewise).
func TestBadInputTable(t *testing.T) {
	seed := []string{"--nodes", seedNodes, "--workload", seedWorkload}
	run := func(args ...string) []string { return append([]string{"run", "--report", "REPORT"}, args...) }
	withSeed := func(args ...string) []string { return run(append(seed, args...)...) }
	withStages := func(file string) []string {
		return withSeed("--stages", kwokStages+"node/fast", "--stages", bad+file)
	}
	trace := func(file string, args ...string) []string {
		return run(append([]string{"--nodes", seedNodes, "--trace", bad + "traces/" + file}, args...)...)
	}
	schedConfig := func(file string) []string {
		return withSeed("--scheduler-config", bad+"scheduler-config/"+file)
	}
	sweepFile := func(file string, args ...string) []string {
		return append([]string{"sweep", bad + "sweep/" + file, "--report", "REPORT"}, args...)
	}
	goodSweep := func(args ...string) []string {
		return append([]string{"sweep", "../../../testdata/sweep/scheduler-configs.yaml", "--report", "REPORT"}, args...)
	}
	openb := func(nodes, pods string) []string {
		return []string{"import", "openb", "--nodes", nodes, "--pods", pods, "--out", "OUT"}
	}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		// Manifests.
		{"missing file", run("--nodes", "../../../testdata/seed/no-such.yaml"), exitBadInput,
			[]string{"no-such.yaml: no such file"}},
		{"directory without manifests", run("--nodes", "../../../testdata/load/nomanifests"), exitBadInput,
			[]string{"nomanifests: no .yaml, .yml or .json files in directory"}},
		{"yaml syntax error, with its line", withSeed("--workload", bad+"syntax.yaml"), exitBadInput,
			[]string{"syntax.yaml:14: yaml"}},
		{"control characters", run("--nodes", bad+"binary.yaml"), exitBadInput,
			[]string{"binary.yaml:1: yaml: control characters are not allowed"}},
		{"duplicate key", run("--nodes", seedNodes, "--workload", loadErrs+"duplicate-field.yaml"), exitBadInput,
			[]string{"duplicate-field.yaml:7:", `key "replicas" already set`}},
		{"content after a document separator", run("--nodes", loadErrs+"bad-separator.yaml"), exitBadInput,
			[]string{"bad-separator.yaml:5:", `after the document separator "---" is not supported`}},
		{"storage class binding mode", withSeed("-f", bad+"storageclass-binding-mode.yaml"), exitBadInput,
			[]string{"storageclass-binding-mode.yaml:1:", `volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"`}},
		{"CSINode volume count", withSeed("-f", bad+"csinode-negative-count.yaml"), exitBadInput,
			[]string{"csinode-negative-count.yaml:1:", "spec.drivers[0].allocatable.count: Invalid value: -2: must be greater than or equal to 0"}},
		// NodePools (kwoksim/v1alpha1): decoded strictly, validated with field paths.
		{"node pool max below min", withSeed("-f", bad+"nodepool/max-below-min.yaml"), exitBadInput,
			[]string{"max-below-min.yaml:1:", `NodePool "general" is invalid: spec.max: must be >= spec.min (3), not 2`}},
		{"node pool without shapes", withSeed("--workload", bad+"nodepool/no-shapes.yaml"), exitBadInput,
			[]string{"no-shapes.yaml:1:", "spec.shapes: must list at least one instance shape"}},
		{"node pool duplicate shape", withSeed("-f", bad+"nodepool/duplicate-shape.yaml"), exitBadInput,
			[]string{"duplicate-shape.yaml:1:", `spec.shapes[1].name: duplicate shape name "m5.2xlarge" (also spec.shapes[0])`}},
		{"node pool bad quantity", withSeed("-f", bad+"nodepool/bad-quantity.yaml"), exitBadInput,
			[]string{"bad-quantity.yaml:1:", `spec.shapes[1].capacity.cpu: must be a quantity (e.g. 8, 500m, 32Gi), not "four"`}},
		{"node pool negative price", withSeed("-f", bad+"nodepool/negative-price.yaml"), exitBadInput,
			[]string{"negative-price.yaml:1:", "spec.shapes[0].pricePerHour: must be >= 0, not -0.384"}},
		{"node pool unknown field", withSeed("-f", bad+"nodepool/unknown-field.yaml"), exitBadInput,
			[]string{"unknown-field.yaml:1:", `unknown field "spec.maxNodes"`}},
		{"node pool template spec beyond taints", withSeed("-f", bad+"nodepool/template-spec.yaml"), exitBadInput,
			[]string{"template-spec.yaml:1:", `unknown field "spec.template.spec.providerID" (a pool's node template takes only taints and unschedulable`}},
		{"node pool bad duration", withSeed("-f", bad+"nodepool/bad-duration.yaml"), exitBadInput,
			[]string{"bad-duration.yaml:1:", "spec.provisioning.delay.min: must be a Go duration (e.g. 90s, 1m30s), not 60"}},
		{"node pool delay min above max", withSeed("-f", bad+"nodepool/delay-min-above-max.yaml"), exitBadInput,
			[]string{"delay-min-above-max.yaml:1:", "spec.provisioning.delay.max: must be >= spec.provisioning.delay.min (1m30s), not 1m0s"}},
		{"a node pool given as nodes", run("--nodes", "../../../testdata/inputs/nodepool.yaml"), exitBadInput,
			[]string{"nodepool.yaml:1", `kind "NodePool" is not accepted here; expected Node`}},
		{"not a mapping", run("--nodes", loadErrs+"not-mapping.yaml"), exitBadInput,
			[]string{"not-mapping.yaml:1: expected a mapping with apiVersion and kind, found a list"}},
		{"List item without a kind", run("--nodes", loadErrs+"list-item.yaml"), exitBadInput,
			[]string{"list-item.yaml:1: items[1]: missing kind"}},
		{"a custom resource under --strict-kinds", withSeed("--workload", bad+"unknown-kind.yaml", "--strict-kinds"), exitBadInput,
			[]string{"example.com/v1 Widget ×1: custom resource", "--strict-kinds"}},
		{"a misspelt built-in kind", withSeed("-f", "../../../testdata/inputs/typo-kind.yaml"), exitBadInput,
			[]string{"typo-kind.yaml:1", `unknown kind "Deploymnet" in apiVersion "apps/v1"`}},
		{"unknown field", withSeed("--workload", bad+"unknown-field.yaml"), exitBadInput,
			[]string{"unknown-field.yaml", `unknown field "spec.replica"`}},
		{"invalid object, with the apiserver's field path", withSeed("--workload", bad+"invalid-pod.yaml"), exitBadInput,
			[]string{"invalid-pod.yaml:1", `Pod "bad-container-name" is invalid`, "spec.containers[0].name", "Invalid value"}},
		{"deployment selector does not match its template", withSeed("--workload", bad+"selector-mismatch.yaml"), exitBadInput,
			[]string{"selector-mismatch.yaml:1", `Deployment.apps "mismatch" is invalid`, "spec.template.metadata.labels", "`selector` does not match template `labels`"}},
		{"a pod's usage annotation not a quantity", withSeed("--workload", bad+"usage-annotation-pod.yaml"), exitBadInput,
			[]string{"usage-annotation-pod.yaml:1: ", `metadata.annotations["kwoksim.io/cpu-usage"]: expected a non-negative quantity such as "300m" or "256Mi", got "a lot"`}},
		{"a pod template's usage annotation negative", withSeed("-f", bad+"usage-annotation-template.yaml"), exitBadInput,
			[]string{"usage-annotation-template.yaml:1: ", `spec.template.metadata.annotations["kwoksim.io/memory-usage"]: expected a non-negative quantity such as "300m" or "256Mi", got "-256Mi"`}},
		{"a node's devices annotation", run("--nodes", bad+"devices-node.yaml"), exitBadInput,
			[]string{"devices-node.yaml:6: ", `node "gpu-b": metadata.annotations["kwoksim.io/devices"][0].attributes.tflops: expected a string, an integer or a boolean, found 19.5`}},
		{"a node pool template's devices annotation", withSeed("-f", bad+"nodepool/devices.yaml"), exitBadInput,
			[]string{"devices.yaml:1: ", `NodePool "gpus": spec.template.metadata.annotations["kwoksim.io/devices"][0].count: expected a whole number of devices from 1 to 1024, found 5000`}},
		{"a traced node's devices annotation", trace("apply-bad-devices.jsonl"), exitBadInput,
			[]string{"apply-bad-devices.jsonl:1: ", `apply: node "late-gpu": metadata.annotations["kwoksim.io/devices"][0]: unknown field "cout"`}},
		{"a workload kind given as nodes", run("--nodes", seedWorkload), exitBadInput,
			[]string{"pod.yaml:1", `kind "Deployment" is not accepted here; expected Node`}},
		{"an object given to stages explain that it cannot explain", []string{"stages", "explain", bad + "unknown-kind.yaml"}, exitBadInput,
			[]string{"unknown-kind.yaml: nothing to explain: skipped 1 object of 1 kind kwoksim does not simulate: Widget ×1 (custom resource)"}},

		// Flags and arguments.
		{"unknown flag", run("--nodes", seedNodes, "--nodez", "x"), exitBadInput, []string{"unknown flag: --nodez"}},
		{"missing --nodes", run("--workload", seedWorkload), exitBadInput, []string{`"nodes" not set`}},
		{"bad output format", run("--nodes", seedNodes, "-o", "xml"), exitBadInput, []string{"--output must be table, json or yaml"}},
		{"negative sample interval", run("--nodes", seedNodes, "--sample-interval", "-1s"), exitBadInput, []string{"--sample-interval must not be negative"}},
		{"an unknown log level", withSeed("--log-level", "debug"), exitBadInput, []string{`--log-level must be off, error or info, not "debug"`}},
		{"a sample interval too fine for --until", run("--nodes", seedNodes, "--until", "24h", "--sample-interval", "1ms"), exitBadInput,
			[]string{"--sample-interval 1ms gives 86400001 points over 24h0m0s"}},
		{"an assertion that does not compile", run("--nodes", seedNodes, "--assert", "summary.pods.unschedulabel == 0"), exitBadInput,
			[]string{`summary.pods has no field "unschedulabel"`}},
		{"zero parallelism", run("--nodes", seedNodes, "--parallelism", "0"), exitBadInput, []string{"--parallelism must be at least 1, got 0"}},
		{"negative --until", run("--nodes", seedNodes, "--until", "-1s"), exitBadInput, []string{"--until must not be negative"}},
		{"negative --until-unschedulable", run("--nodes", seedNodes, "--trace", arrivals+"trace.jsonl", "--until-unschedulable", "-1"), exitBadInput,
			[]string{"--until-unschedulable must not be negative, got -1"}},
		{"--arrivals-only without a trace", withSeed("--arrivals-only"), exitBadInput, []string{"--arrivals-only needs --trace"}},
		{"--until-unschedulable without a trace", withSeed("--until-unschedulable", "1"), exitBadInput, []string{"--until-unschedulable needs --trace"}},
		{"--until past what the clock holds", run("--nodes", seedNodes, "--until", "2562047h"), exitBadInput,
			[]string{"--until 2562047h0m0s is past the latest virtual time kwoksim simulates, 876000h0m0s (100 years"}},
		{"plan: --until past what the clock holds", []string{"plan", "--node-template", seedNodes, "--workload", seedWorkload, "--until", "2562047h", "--report", "REPORT"}, exitBadInput,
			[]string{"--until 2562047h0m0s is past the latest virtual time kwoksim simulates"}},
		{"seed not a number", run("--nodes", seedNodes, "--seed", "abc"), exitBadInput, []string{`invalid argument "abc" for "--seed" flag`}},
		{"unknown command", []string{"rnu"}, exitBadInput, []string{`unknown command "rnu"`, "run"}},
		{"argument to run", run("extra", "--nodes", seedNodes), exitBadInput, []string{`unknown command "extra" for "kwoksim run"`}},
		{"zero object limit", run("--nodes", seedNodes, "--max-objects", "0"), exitBadInput, []string{"--max-objects must be at least 1, got 0"}},
		{"an unknown kube-controller-manager flag", run("--nodes", seedNodes, "--kcm-flag", "node-eviction-rat=1"), exitBadInput,
			[]string{`invalid argument "node-eviction-rat=1" for "--kcm-flag" flag`, `flag "node-eviction-rat" is not modelled; expected one of`, "node-eviction-rate"}},
		{"a bad kube-controller-manager flag value", run("--nodes", seedNodes, "--kcm-flag", "node-monitor-grace-period=soon"), exitBadInput,
			[]string{`--node-monitor-grace-period: expected a positive duration such as 40s, got "soon"`}},
		{"a kube-apiserver flag without a value", run("--nodes", seedNodes, "--apiserver-flag", "default-not-ready-toleration-seconds"), exitBadInput,
			[]string{`for "--apiserver-flag" flag: expected NAME=VALUE`}},
		{"negative document limit", run("--nodes", seedNodes, "--max-document-bytes", "-5"), exitBadInput, []string{"--max-document-bytes must be at least 1, got -5"}},
		// The scheduler's feature gates and the apiserver's admission plugins.
		{"an unknown feature gate", run("--nodes", seedNodes, "--feature-gates", "OpportunisticBatching=true,Nope=true"), exitBadInput,
			[]string{"--feature-gates: unrecognized feature gate: Nope"}},
		{"a feature gate locked to its default", run("--nodes", seedNodes, "--feature-gates", "ExecProbeTimeout=false"), exitBadInput,
			[]string{"--feature-gates: cannot set feature gate ExecProbeTimeout to false, feature is locked to true"}},
		{"the scheduler's asynchronous API calls", run("--nodes", seedNodes, "--feature-gates", "SchedulerAsyncAPICalls=true"), exitBadInput,
			[]string{"--feature-gates: SchedulerAsyncAPICalls=true is not supported: the scheduler's API dispatcher makes its API calls from goroutines of its own"}},
		{"a feature gate without a value", run("--nodes", seedNodes, "--feature-gates", "OpportunisticBatching"), exitBadInput,
			[]string{`invalid argument "OpportunisticBatching" for "--feature-gates" flag: missing bool value for OpportunisticBatching`}},
		{"a feature gate that is not a bool", run("--nodes", seedNodes, "--feature-gates", "OpportunisticBatching=on"), exitBadInput,
			[]string{`invalid argument "OpportunisticBatching=on" for "--feature-gates" flag: invalid value of OpportunisticBatching=on, want true or false`}},
		{"an admission plugin kwoksim does not run", run("--nodes", seedNodes, "--disable-admission-plugins", "Priority,PodSecurity"), exitBadInput,
			[]string{`--disable-admission-plugins: admission plugin "PodSecurity": kwoksim runs only LimitRanger, TaintNodesByCondition, Priority, DefaultTolerationSeconds, DefaultStorageClass, StorageObjectInUseProtection, ResourceQuota`}},
		{"plan: an unknown feature gate", []string{"plan", "--node-template", seedNodes, "--workload", seedWorkload, "--feature-gates", "Nope=true", "--report", "REPORT"}, exitBadInput,
			[]string{"--feature-gates: unrecognized feature gate: Nope"}},
		{"plan: an admission plugin kwoksim does not run", []string{"plan", "--node-template", seedNodes, "--workload", seedWorkload, "--disable-admission-plugins", "NamespaceLifecycle", "--report", "REPORT"}, exitBadInput,
			[]string{`--disable-admission-plugins: admission plugin "NamespaceLifecycle": kwoksim runs only LimitRanger,`}},

		// Node autoscaling: --autoscaler and --autoscaler-flag (package autoscaling).
		{"an unknown autoscaler", run("--nodes", seedNodes, "--autoscaler", "keda"), exitBadInput,
			[]string{`--autoscaler must be none, cluster-autoscaler or karpenter, not "keda"`}},
		{"an autoscaler without node pools", withSeed("--autoscaler", "karpenter"), exitBadInput,
			[]string{"--autoscaler karpenter: the inputs have no NodePool"}},
		{"an unknown autoscaler flag", run("--nodes", seedNodes, "--autoscaler-flag", "scale-down-unneded-time=5m"), exitBadInput,
			[]string{`invalid argument "scale-down-unneded-time=5m" for "--autoscaler-flag" flag`, `autoscaler flag "scale-down-unneded-time" is not modelled; expected one of cluster-autoscaler: expander,`, "karpenter: batch-idle-duration"}},
		{"an autoscaler threshold above 1", run("--nodes", seedNodes, "--autoscaler-flag", "scale-down-utilization-threshold=1.5"), exitBadInput,
			[]string{`--scale-down-utilization-threshold: expected a number within [0, 1], got "1.5"`}},
		{"the grpc expander", run("--nodes", seedNodes, "--autoscaler-flag", "expander=priority,grpc"), exitBadInput,
			[]string{"--expander: the grpc expander asks an external service, which kwoksim does not model"}},
		{"a karpenter flag with cluster-autoscaler", withSeed("-f", nodePoolFile, "--autoscaler", "cluster-autoscaler", "--autoscaler-flag", "batch-idle-duration=2s"), exitBadInput,
			[]string{"--autoscaler-flag batch-idle-duration is a karpenter flag, but the run's autoscaler is cluster-autoscaler; give --autoscaler karpenter"}},
		{"a karpenter flag with the default autoscaler", withSeed("-f", nodePoolFile, "--autoscaler-flag", "batch-max-duration=20s"), exitBadInput,
			[]string{"--autoscaler-flag batch-max-duration is a karpenter flag, but the run's autoscaler is cluster-autoscaler", "no --autoscaler was given"}},
		{"an autoscaler flag with none", withSeed("--autoscaler-flag", "scan-interval=5s"), exitBadInput,
			[]string{"--autoscaler-flag scan-interval is a cluster-autoscaler flag, but the run's autoscaler is none"}},

		// Stages.
		{"stages that loop with no delay", withStages("stages-loop.yaml"), exitSimulationErr,
			[]string{"livelock", `stage "flip-`, "Pod default/fake-pod-", "stages-loop.yaml"}},
		{"template reading the environment", withStages("stages-env.yaml"), exitBadInput,
			[]string{"stages-env.yaml", `stage "read-env"`, `function "env" not defined`}},
		{"jq reading the environment", withStages("stages-jq-env.yaml"), exitBadInput,
			[]string{"stages-jq-env.yaml", `stage "delay-from-env"`, "spec.delay.durationFrom.jq.expression", "jq's $ENV (and env) is not available"}},
		{"template that does not parse", withStages("stages-template-syntax.yaml"), exitBadInput,
			[]string{"stages-template-syntax.yaml", `stage "unclosed-action"`, "spec.next (as spec.steps[0]).patch.template", "unclosed action"}},
		{"template that loops printing nothing", withStages("stages-template-loop.yaml"), exitBadInput,
			[]string{"stages-template-loop.yaml", `stage "endless-range"`, "template loop limit exceeded", "Pod default/fake-pod-"}},
		{"jq that does not compile", withStages("stages-jq.yaml"), exitBadInput,
			[]string{"stages-jq.yaml", `stage "bad-jq"`, "matchExpressions[0]"}},
		{"jq that never ends", withStages("stages-jq-loop.yaml"), exitBadInput,
			[]string{"stages-jq-loop.yaml", `stage "endless-jq"`, "jq step limit exceeded"}},
		{"CEL past its cost limit", withStages("stages-cel-cost.yaml"), exitBadInput,
			[]string{"stages-cel-cost.yaml", `stage "expensive-cel"`, "CEL cost limit exceeded", "Pod default/fake-pod-"}},
		{"stage delay longer than a duration holds", withStages("stages-delay-overflow.yaml"), exitBadInput,
			[]string{"stages-delay-overflow.yaml", `stage "endless-jitter"`, "spec.delay.jitterDurationMilliseconds", "9000000000000000 milliseconds is more than a duration holds; expected at most 9223372036854"}},
		{"stage without resourceRef.kind", withStages("stages-no-kind.yaml"), exitBadInput,
			[]string{"stages-no-kind.yaml", `stage "no-kind"`, "spec.resourceRef.kind: required"}},
		{"a stage file holding no stages", withStages("unknown-kind.yaml"), exitBadInput,
			[]string{"unknown-kind.yaml", "Widget is not a Stage", "no Stage (kwok.x-k8s.io/v1alpha1) documents"}},
		{"missing stage directory", withStages("no-such-dir"), exitBadInput,
			[]string{"no-such-dir", "no such file"}},

		// Scheduler configuration: the scheduler's own decoding, validation and framework errors.
		{"scheduler config: not YAML", schedConfig("syntax.yaml"), exitBadInput,
			[]string{"scheduler-config/syntax.yaml: yaml: line 7: did not find expected ',' or '}'"}},
		{"scheduler config: unknown field (strict decoding)", schedConfig("unknown-field.yaml"), exitBadInput,
			[]string{`unknown-field.yaml: strict decoding error: unknown field "podMaxInUnschedulablePodsDuration"`}},
		{"scheduler config: a profile without schedulerName", schedConfig("empty-name.yaml"), exitBadInput,
			[]string{"empty-name.yaml: profiles[1].schedulerName: Required value"}},
		{"scheduler config: two profiles of one name", schedConfig("duplicate-names.yaml"), exitBadInput,
			[]string{"duplicate-names.yaml: profiles[1].schedulerName: Duplicate value"}},
		{"scheduler config: an unknown scoring strategy", schedConfig("bad-strategy.yaml"), exitBadInput,
			[]string{`bad-strategy.yaml: initializing profiles: creating profile for scheduler name default-scheduler: initializing plugin "NodeResourcesFit": scoringStrategy.type: Unsupported value: "Packed"`}},
		{"scheduler config: a plugin that does not exist", schedConfig("unknown-plugin.yaml"), exitBadInput,
			[]string{"unknown-plugin.yaml: ", `ScorePlugin "NodeResourcesFitt" does not exist`}},
		{"scheduler config: extenders", schedConfig("extenders.yaml"), exitBadInput,
			[]string{"extenders.yaml: extenders: 1 extender(s) configured; kwoksim runs offline"}},
		{"scheduler config: missing file", schedConfig("absent.yaml"), exitBadInput,
			[]string{"scheduler-config/absent.yaml: no such file or directory"}},
		{"scheduler config: a manifest instead", withSeed("--scheduler-config", seedWorkload), exitBadInput,
			[]string{"pod.yaml: expected a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1)"}},

		// Traces.
		{"unknown trace operation", trace("unknown-op.jsonl"), exitBadInput,
			[]string{`unknown-op.jsonl:2: unknown operation "restart"; expected one of apply, delete, scale, patch, evict, cordon, uncordon, drain, fail, recover, load`}},
		{"a fail of an unknown mode", trace("bad-fail-mode.jsonl"), exitBadInput,
			[]string{`bad-fail-mode.jsonl:2: fail: mode: expected stop, not-ready or delete, got "reboot"`}},
		{"a patch of a node's status", trace("patch-node-status.yaml"), exitBadInput,
			[]string{`patch-node-status.yaml:8: patch: patch.status: a patch cannot change a Node's status: status is a subresource, and a real apiserver drops status changes in a patch of the object, so this event would do nothing`,
				"use the fail operation (mode stop, not-ready or delete) and recover"}},
		{"a json patch of a pod's status", trace("patch-pod-status.jsonl"), exitBadInput,
			[]string{`patch-pod-status.jsonl:1: patch: patch[1].path (/status/phase): a patch cannot change a Pod's status`,
				"here the pod stages (pod-ready, pod-complete, pod-delete)"}},
		{"a drain with a negative grace period", trace("negative-grace.jsonl"), exitBadInput,
			[]string{`negative-grace.jsonl:1: drain: gracePeriodSeconds: expected a non-negative integer, got -1`}},
		{"a trace apply with a bad usage annotation", trace("apply-bad-usage.yaml"), exitBadInput,
			[]string{"apply-bad-usage.yaml:4: apply: ", `spec.template.metadata.annotations["kwoksim.io/cpu-usage"]: expected a non-negative quantity such as "300m" or "256Mi", got "half a core"`}},
		{"a load whose cpu is not a quantity", trace("load-bad-quantity.jsonl"), exitBadInput,
			[]string{`load-bad-quantity.jsonl:2: load: cpu: expected a quantity such as "1500m" or "2", got "lots"`}},
		{"a load with a negative memory demand", trace("load-negative.jsonl"), exitBadInput,
			[]string{`load-negative.jsonl:2: load: memory: expected a non-negative quantity, got "-2Gi"`}},
		{"a load without cpu or memory", trace("load-no-demand.jsonl"), exitBadInput,
			[]string{`load-no-demand.jsonl:1: load: expected cpu, memory or both: the workload's total demand`}},
		{"a load of a kind without a pod selector", trace("load-kind.jsonl"), exitBadInput,
			[]string{`load-kind.jsonl:1: load: kind "Job" is not accepted here; expected one of DaemonSet, Deployment, ReplicaSet, ReplicationController, StatefulSet`}},
		{"a load of a missing workload, --strict", append(trace("load-missing.yaml", "--strict"), "--workload", seedWorkload), exitBadInput,
			[]string{"load-missing.yaml:4: at 10s: Deployment default/no-such-deployment not found (--strict)"}},
		{"malformed JSON line", trace("malformed.jsonl"), exitBadInput,
			[]string{`malformed.jsonl:2: malformed line: column `}},
		{"decreasing at in JSON Lines", trace("decreasing.jsonl"), exitBadInput,
			[]string{`decreasing.jsonl:3: at 10s is before the previous event's 20s (line 2)`}},
		{"decreasing at in YAML", trace("decreasing.yaml"), exitBadInput,
			[]string{`decreasing.yaml:6: at 30s is before the previous event's 1m0s (line 4)`}},
		{"at not a duration", trace("bad-duration.yaml"), exitBadInput,
			[]string{`bad-duration.yaml:6: at: expected a non-negative Go duration such as "90s" or "36h", got "soon"`}},
		{"an event past what the clock holds", trace("too-late.jsonl"), exitBadInput,
			[]string{"too-late.jsonl:2: at: 2562047h0m0s is past the latest virtual time kwoksim simulates, 876000h0m0s"}},
		{"a manifest given as a trace", trace("not-a-trace.yaml"), exitBadInput,
			[]string{`not-a-trace.yaml:1: expected apiVersion kwoksim/v1alpha1 and kind Trace, got "v1" and "Pod"`}},
		{"event on a missing object, --strict", append(trace("missing-object.yaml", "--strict"), "--workload", seedWorkload), exitBadInput,
			[]string{"missing-object.yaml:4: at 10s: Node no-such-node not found (--strict)"}},

		// Limits.
		{"JSON Lines line over --max-document-bytes", run("--nodes", tinyNode, "--trace", bad+"traces/long-line.jsonl", "--max-document-bytes", "1000"), exitBadInput,
			[]string{"long-line.jsonl:2: the line is 2169 bytes, more than the limit of 1000 bytes (raise it with --max-document-bytes)"}},
		{"YAML trace over --max-document-bytes", run("--nodes", tinyNode, "--trace", "../../../testdata/traces/operations/trace.yaml", "--max-document-bytes", "1000"), exitBadInput,
			[]string{"operations/trace.yaml:1: the YAML trace (one document) is", "more than the limit of 1000 bytes (raise it with --max-document-bytes)"}},
		{"manifest document over --max-document-bytes", withSeed("--max-document-bytes", "900"), exitBadInput,
			[]string{"node.yaml:1: document 1 is 931 bytes, more than the limit of 900 bytes (raise it with --max-document-bytes)"}},
		{"more objects declared than --max-objects, refused before the run", withSeed("--max-objects", "3"), exitSimulationErr,
			[]string{"object limit: the inputs declare at least 13 objects", "more than the limit of 3 objects",
				"the largest workload is ../../../testdata/seed/pod.yaml:1: Deployment default/fake-pod: 10 pods", "Raise the limit with --max-objects"}},
		{"more objects than --max-objects during the run", withSeed("--max-objects", "14"), exitSimulationErr,
			[]string{"object limit reached: creating Pod default/fake-pod-", "more than 14 objects", "raise it with --max-objects"}},
		{"replicas: 2000000, refused before the run by the object limit", withSeed("--workload", bad+"replicas-2000000.yaml"), exitSimulationErr,
			[]string{"object limit: the inputs declare at least 2000015 objects", "more than the limit of 1000000 objects",
				"the largest workload is " + bad + "replicas-2000000.yaml:1: Deployment two-million: 2000000 pods", "Raise the limit with --max-objects"}},
		{"200,000 replicas, refused before the run by --max-memory", withSeed("--workload", bad+"replicas-2000000.yaml", "--scale-replicas", "0.1", "--max-memory", "1Gi"), exitSimulationErr,
			[]string{"memory limit: the inputs declare at least 200006 objects", "which need at least 1.53 GiB at 8 KiB each, more than the memory limit of 1 GiB (--max-memory 1Gi)",
				"Deployment two-million: 200000 pods", "Raise the limit with --max-memory (0 turns it off)"}},
		{"a run past --max-memory", withSeed("--max-memory", "1Mi"), exitSimulationErr,
			[]string{"memory limit reached: the Go runtime holds", "more than the limit of 1 MiB (--max-memory 1Mi) at virtual time t=0s",
				"depends on the machine", "raise it with --max-memory, or turn it off with --max-memory 0"}},
		{"--max-memory not a size", run("--nodes", seedNodes, "--max-memory", "lots"), exitBadInput,
			[]string{`invalid argument "lots" for "--max-memory" flag: expected a size in bytes such as 6Gi, 512Mi or 8G (0: no limit)`}},
		{"--max-memory negative", run("--nodes", seedNodes, "--max-memory", "-1Gi"), exitBadInput,
			[]string{`invalid argument "-1Gi" for "--max-memory" flag: expected a size that is not negative`}},
		{"a device that never ends as --nodes", run("--nodes", "/dev/zero"), exitBadInput,
			[]string{"/dev/zero:1: document 1 is at least", "more than the limit of 16777216 bytes (raise it with --max-document-bytes)"}},
		{"a device that never ends as --trace", run("--nodes", seedNodes, "--trace", "/dev/zero"), exitBadInput,
			[]string{"/dev/zero:1: the YAML trace (one document) is 16777217 bytes, more than the limit of 16777216 bytes"}},
		{"more events at one instant than --max-events-per-instant", withSeed("--max-events-per-instant", "5"), exitSimulationErr,
			[]string{"livelock: more than 5 events at virtual time t=0s", "raise the limit with --max-events-per-instant"}},

		// Sweeps: the matrix file and line, the field path, what was expected.
		{"sweep: an autoscaler without node pools", sweepFile("no-pools-to-autoscale.yaml"), exitBadInput,
			[]string{"no-pools-to-autoscale.yaml:8: matrix.autoscaler[1]: --autoscaler karpenter: the inputs have no NodePool"}},
		{"sweep: unknown field", sweepFile("unknown-field.yaml"), exitBadInput,
			[]string{"unknown-field.yaml:7: matrix.schedulerConfigs: unknown field; expected one of schedulerConfig, nodes, replicaScale, seed"}},
		{"sweep: empty axis", sweepFile("empty-axis.yaml"), exitBadInput,
			[]string{"empty-axis.yaml:6: matrix.seed: an axis must be a list of at least one value"}},
		{"sweep: a replica scale of 0", sweepFile("bad-scale.yaml"), exitBadInput,
			[]string{"bad-scale.yaml:7: matrix.replicaScale[1]: expected a positive number, got 0"}},
		{"sweep: a node template without a count", sweepFile("template-without-count.yaml"), exitBadInput,
			[]string{"template-without-count.yaml:8: matrix.nodes[1].template: a template needs a count"}},
		{"sweep: a missing input file", sweepFile("missing-file.yaml"), exitBadInput,
			[]string{"missing-file.yaml:7: matrix.schedulerConfig[1]: ", "sweep/no-such-config.yaml: no such file or directory"}},
		{"sweep: an input that does not load", sweepFile("bad-input.yaml"), exitBadInput,
			[]string{"bad-input.yaml:5: base.workload[0]: ", `unknown-field.yaml:1: strict decoding error: unknown field "spec.replica"`}},
		{"sweep: a value of the wrong type", sweepFile("not-a-number.yaml"), exitBadInput,
			[]string{"not-a-number.yaml:6: matrix.seed[1]: cannot unmarshal !!str `two` into uint64"}},
		{"sweep: seed in base and as an axis", sweepFile("seed-twice.yaml"), exitBadInput,
			[]string{"seed-twice.yaml:5: base.seed: given in base and as an axis of matrix; give it in one place"}},
		{"sweep: an axis value twice", sweepFile("duplicate-value.yaml"), exitBadInput,
			[]string{"duplicate-value.yaml:6: matrix.seed[2]: the same value as matrix.seed[0]"}},
		{"sweep: not a Sweep", sweepFile("wrong-kind.yaml"), exitBadInput,
			[]string{`wrong-kind.yaml:2: kind: expected apiVersion kwoksim/v1alpha1 and kind Sweep, got "kwoksim/v1alpha1" and "Trace"`}},
		{"sweep: a replica scale past the replica limit", sweepFile("scale-overflow.yaml"), exitBadInput,
			[]string{"scale-overflow.yaml:7: matrix.replicaScale[1]: ", "seed/pod.yaml:1: 10 × 1e+09 is 10000000000, more than the limit of 2147483647"}},
		{"sweep: until past what the clock holds", sweepFile("until-too-late.yaml"), exitBadInput,
			[]string{"until-too-late.yaml:5: base.until: 2562047h0m0s is past the latest virtual time kwoksim simulates"}},
		{"sweep: an unknown feature gate", sweepFile("unknown-gate.yaml"), exitBadInput,
			[]string{"unknown-gate.yaml:5: base.featureGates: unrecognized feature gate: NoSuchGate"}},
		{"sweep: an unsupported feature gate on the axis", sweepFile("unsupported-gate.yaml"), exitBadInput,
			[]string{"unsupported-gate.yaml:8: matrix.featureGates[1]: SchedulerAsyncAPICalls=true is not supported"}},
		{"sweep: an unsupported feature gate, with --index", sweepFile("unsupported-gate.yaml", "--index", "0"), exitBadInput,
			[]string{"unsupported-gate.yaml:8: matrix.featureGates[1]: SchedulerAsyncAPICalls=true is not supported"}},
		{"sweep: an admission plugin kwoksim does not run", sweepFile("unknown-admission-plugin.yaml"), exitBadInput,
			[]string{`unknown-admission-plugin.yaml:7: base.disableAdmissionPlugins[1]: admission plugin "NamespaceLifecycle": kwoksim runs only LimitRanger`}},
		{"sweep: missing matrix file", sweepFile("absent.yaml"), exitBadInput,
			[]string{"sweep/absent.yaml: no such file or directory"}},
		{"sweep: --index past the last combination", goodSweep("--index", "2"), exitBadInput,
			[]string{"--index 2: ../../../testdata/sweep/scheduler-configs.yaml has 2 combinations, 0 to 1"}},
		{"sweep: zero parallelism", goodSweep("--parallel", "0"), exitBadInput, []string{"--parallel must be at least 1, got 0"}},
		{"sweep: yaml output", goodSweep("-o", "yaml"), exitBadInput, []string{"--output must be table or json"}},
		{"sweep: --image without --emit-job", goodSweep("--image", "x"), exitBadInput, []string{"--image needs --emit-job"}},
		{"sweep: --emit-job with an empty --image", []string{"sweep", "../../../testdata/sweep/scheduler-configs.yaml", "--emit-job", "OUT", "--image", ""}, exitBadInput,
			[]string{`--image "": expected an image reference`}},
		{"sweep: --emit-job with an --image ending in a space", []string{"sweep", "../../../testdata/sweep/scheduler-configs.yaml", "--emit-job", "OUT", "--image", "kwoksim:v1 "}, exitBadInput,
			[]string{`--image "kwoksim:v1 ": expected an image reference`, "without leading or trailing white space"}},
		{"version: yaml output", []string{"version", "-o", "yaml"}, exitBadInput, []string{"--output must be text or json, not \"yaml\""}},
		{"sweep collect: files that are not sweep runs", []string{"sweep", "collect", bad + "sweep", "--report", "REPORT"}, exitBadInput,
			[]string{"bad-input.yaml: no JSON document (expected a SweepRun"}},
		{"run: --scale-replicas 0", withSeed("--scale-replicas", "0"), exitBadInput, []string{"--scale-replicas must be a positive number, got 0"}},
		{"run: --scale-replicas past the replica limit", withSeed("--scale-replicas", "1e9"), exitBadInput,
			[]string{"--scale-replicas: ../../../testdata/seed/pod.yaml:1: 10 × 1e+09 is 10000000000, more than the limit of 2147483647"}},

		// Output paths, checked before anything is simulated (REPORT/x is in a missing directory).
		{"run: --report in a missing directory", withSeed("--report", "REPORT/x.json"), exitBadInput,
			[]string{"--report ", "x.json: directory ", "report.json does not exist"}},
		{"run: --report naming a directory", withSeed("--report", bad), exitBadInput,
			[]string{"--report " + bad + ": expected a file, found a directory"}},
		{"run: --report under /proc", withSeed("--report", "/proc/kwoksim-report.json"), exitBadInput,
			[]string{"--report /proc/kwoksim-report.json: cannot write a file in /proc"}},
		{"run: --state-out under /proc", withSeed("--state-out", "/proc/state.yaml"), exitBadInput,
			[]string{"--state-out /proc/state.yaml: cannot write a file in /proc"}},
		{"run: --html under /proc", withSeed("--html", "/proc/r.html"), exitBadInput,
			[]string{"--html /proc/r.html: cannot write a file in /proc"}},
		{"run: --csv under /proc", withSeed("--csv", "/proc/kwoksim-csv"), exitBadInput,
			[]string{"--csv /proc/kwoksim-csv: cannot write in /proc"}},
		{"run: --plots below a file", withSeed("--plots", tinyNode+"/plots"), exitBadInput,
			[]string{"--plots " + tinyNode + "/plots: " + tinyNode + " is a file, not a directory"}},
		{"plan: a node template with node pools", []string{"plan", "--node-template", seedNodes, "--workload", seedWorkload, "-f", nodePoolFile, "--report", "REPORT"}, exitBadInput,
			[]string{"the inputs have NodePools, which a plan answers for by running the inputs with cluster-autoscaler scaling them; --node-template searches a static node count instead"}},
		{"plan: an autoscaler without node pools", []string{"plan", "--workload", seedWorkload, "--autoscaler", "cluster-autoscaler", "--report", "REPORT"}, exitBadInput,
			[]string{"--autoscaler cluster-autoscaler: the inputs have no NodePool"}},
		{"plan: --report in a missing directory", []string{"plan", "--node-template", seedNodes, "--workload", seedWorkload, "--report", "REPORT/x.json"}, exitBadInput,
			[]string{"--report ", "x.json: directory ", "does not exist"}},
		{"sweep: --report naming a directory", goodSweep("--report", bad), exitBadInput,
			[]string{"--report " + bad + ": expected a file, found a directory"}},
		{"sweep: --reports under /proc", goodSweep("--reports", "/proc/kwoksim-runs"), exitBadInput,
			[]string{"--reports /proc/kwoksim-runs: cannot write in /proc"}},

		// The openb importer.
		{"openb: a value that is not a number", openb(openbNodes, bad+"openb/pods-bad-cpu.csv"), exitBadInput,
			[]string{`pods-bad-cpu.csv:3: column cpu_milli: expected a non-negative integer, got "6 cores"`}},
		{"openb: a missing column", openb(bad+"openb/nodes-missing-column.csv", openbPods), exitBadInput,
			[]string{`nodes-missing-column.csv:1: missing column "memory_mib" in the header; expected the columns sn,cpu_milli,memory_mib,gpu,model`}},
		{"openb: a missing file", openb(bad+"openb/absent.csv", openbPods), exitBadInput,
			[]string{"absent.csv: no such file or directory"}},
		{"openb: no --out", []string{"import", "openb", "--nodes", openbNodes, "--pods", openbPods}, exitBadInput,
			[]string{`"out" not set`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.NewReplacer("REPORT", filepath.Join(dir, "report.json"), "OUT", filepath.Join(dir, "out")).Replace(a)
			}
			code, out, errOut := kwoksim(t, args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			for _, want := range tc.contains {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr does not mention %q:\n%s", want, errOut)
				}
			}
			if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic:") {
				t.Errorf("stderr holds a Go panic trace:\n%s", errOut)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left %d file(s) behind: no report or output may be written", len(entries))
			}
		})
	}
}
