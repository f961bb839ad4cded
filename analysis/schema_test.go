package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := jsonschema.NewCompiler().Compile("report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validate(sch *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// goldenReports are the reviewed JSON reports of the repository.
func goldenReports(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"../testdata/traces/*/report.golden.json", "../cmd/kwoksim/app/testdata/golden/*/report.json"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 4 {
		t.Fatalf("found only %d golden reports: %v", len(files), files)
	}
	return files
}

// Every golden report, and the report of an empty run, validates against the schema.
func TestReportSchemaAcceptsGoldens(t *testing.T) {
	sch := compileSchema(t)
	for _, f := range goldenReports(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(sch, data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, Build(Observation{Elapsed: time.Minute})); err != nil {
		t.Fatal(err)
	}
	if err := validate(sch, buf.Bytes()); err != nil {
		t.Errorf("empty run: %v\n%s", err, buf.String())
	}
	// What a run says about its inputs.
	r := Build(Observation{Elapsed: time.Minute})
	r.Skipped = []SkippedKind{{APIVersion: "v1", Kind: "ConfigMap", Count: 2, Reason: "kwoksim does not simulate this kind"}}
	r.NotActedOn = []NotActedOnKind{{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Count: 1, Note: "kept as written"}}
	r.Notes = []string{"label kubernetes.io/os set on 1 node that lacked it"}
	buf.Reset()
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if err := validate(sch, buf.Bytes()); err != nil {
		t.Errorf("a run with skipped inputs: %v\n%s", err, buf.String())
	}
	// An arrivals-only replay, one ended by --until-unschedulable and one not.
	for _, end := range []*ArrivalsEnd{nil, {Reason: EndUntilUnschedulable, At: 30, Pod: "default/c", Consecutive: 1, Message: "0/2 nodes are available"}} {
		r := Build(Observation{Elapsed: time.Minute})
		r.Arrivals = &ArrivalsReport{Mode: ReplayArrivalsOnly, DeletionsSkipped: 1, UntilUnschedulable: 1, Created: 3, Accepted: 2, Unschedulable: 1, Scheduled: 2, End: end}
		r.Provenance = &Provenance{Command: []string{"kwoksim"}, Inputs: []InputFile{}, ArrivalsOnly: true, UntilUnschedulable: 1}
		r.Provenance.Kwoksim.Version, r.Provenance.Kwoksim.Kubernetes, r.Provenance.Kwoksim.Go = "dev", "v1.37.2", "go1.26"
		buf.Reset()
		if err := WriteJSON(&buf, r); err != nil {
			t.Fatal(err)
		}
		if err := validate(sch, buf.Bytes()); err != nil {
			t.Errorf("an arrivals replay (end %v): %v\n%s", end, err, buf.String())
		}
	}
}

// The schema is closed where the contract is: a missing field, an unknown one, a wrong type
// or an out-of-range figure is rejected, with the path of what is wrong.
func TestReportSchemaRejects(t *testing.T) {
	sch := compileSchema(t)
	data, err := os.ReadFile("../cmd/kwoksim/app/testdata/golden/deployments/report.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(r map[string]any)
		want   string
	}{
		{"missing timeseries", func(r map[string]any) { delete(r, "timeseries") }, "missing property 'timeseries'"},
		{"unknown top-level field", func(r map[string]any) { r["extra"] = 1 }, "additional properties 'extra' not allowed"},
		{"unknown pod field", func(r map[string]any) { r["pods"].([]any)[0].(map[string]any)["zone"] = "a" }, "/pods/0"},
		{"seed as a string", func(r map[string]any) { r["seed"] = "1" }, "/seed"},
		{"negative latency", func(r map[string]any) {
			r["latency"].(map[string]any)["startup"].(map[string]any)["p50"] = -1
		}, "/latency/startup/p50"},
		{"utilization figure as a string", func(r map[string]any) {
			r["utilization"].(map[string]any)["cpu"].(map[string]any)["mean"] = "57%"
		}, "/utilization/cpu/mean"},
		{"empty time series", func(r map[string]any) { r["timeseries"].(map[string]any)["t"] = []any{} }, "/timeseries/t"},
		{"a quantity that is not one", func(r map[string]any) {
			r["nodes"].([]any)[0].(map[string]any)["allocatable"].(map[string]any)["cpu"] = "eight"
		}, "/nodes/0/allocatable/cpu"},
		{"wrong kind", func(r map[string]any) { r["kind"] = "Trace" }, "/kind"},
		{"a provenance without the kwoksim build", func(r map[string]any) {
			delete(r["provenance"].(map[string]any), "kwoksim")
		}, "missing property 'kwoksim'"},
		{"an input without its flag", func(r map[string]any) {
			r["provenance"].(map[string]any)["inputs"] = []any{map[string]any{"path": "nodes.yaml"}}
		}, "missing property 'flag'"},
		{"per-plugin node counts as a map", func(r map[string]any) {
			r["unschedulableReasons"].([]any)[0].(map[string]any)["pluginNodes"] = map[string]any{"NodeAffinity": 3}
		}, "/unschedulableReasons/0/pluginNodes"},
		{"reason without its code", func(r map[string]any) {
			delete(r["unschedulableReasons"].([]any)[0].(map[string]any), "code")
		}, "missing property 'code'"},
		{"a skipped kind without its count", func(r map[string]any) {
			r["skipped"] = []any{map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "reason": "not simulated"}}
		}, "missing property 'count'"},
		{"a workload size without its seq", func(r map[string]any) {
			delete(r["workloadSizes"].([]any)[0].(map[string]any)["sizes"].([]any)[0].(map[string]any), "seq")
		}, "missing property 'seq'"},
		{"a workload of a kind that has no size", func(r map[string]any) {
			r["workloadSizes"].([]any)[0].(map[string]any)["kind"] = "CronJob"
		}, "/workloadSizes/0/kind"},
		{"an owner that is not Kind/name", func(r map[string]any) {
			r["workloadSizes"].([]any)[0].(map[string]any)["owner"] = "web"
		}, "/workloadSizes/0/owner"},
		{"a Ready status that is none", func(r map[string]any) {
			r["nodeHistory"].([]any)[0].(map[string]any)["changes"].([]any)[0].(map[string]any)["ready"] = true
		}, "/nodeHistory/0/changes/0/ready"},
		{"a taint without its effect", func(r map[string]any) {
			r["nodeHistory"].([]any)[0].(map[string]any)["changes"].([]any)[0].(map[string]any)["taints"] = []any{"maintenance=true"}
		}, "/nodeHistory/0/changes/0/taints/0"},
		{"a node without changes", func(r map[string]any) {
			r["nodeHistory"].([]any)[0].(map[string]any)["changes"] = []any{}
		}, "/nodeHistory/0/changes"},
		{"an arrivals mode that is none", func(r map[string]any) {
			r["arrivals"] = map[string]any{"mode": "departures-only", "deletionsSkipped": 0, "untilUnschedulable": 0,
				"created": 0, "accepted": 0, "unschedulable": 0, "scheduled": 0, "end": nil}
		}, "/arrivals/mode"},
		{"an arrivals end without its pod", func(r map[string]any) {
			r["arrivals"] = map[string]any{"mode": "arrivals-only", "deletionsSkipped": 0, "untilUnschedulable": 1,
				"created": 1, "accepted": 0, "unschedulable": 1, "scheduled": 0,
				"end": map[string]any{"reason": "until-unschedulable", "at": 0, "consecutive": 1, "message": ""}}
		}, "/arrivals/end"},
		{"a kind not acted on without its note", func(r map[string]any) {
			r["notActedOn"] = []any{map[string]any{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "count": 1}}
		}, "missing property 'note'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r map[string]any
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			tc.mutate(r)
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			err = validate(sch, b)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not name %q:\n%v", tc.want, err)
			}
		})
	}
}

// WriteYAML converts the report piecewise; the result is byte for byte what converting the
// whole JSON report at once gives.
func TestWriteYAMLIsTheWholeConversion(t *testing.T) {
	for _, f := range goldenReports(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r Report
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		whole, err := yaml.JSONToYAML(data)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := WriteYAML(&got, &r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), whole) {
			t.Errorf("%s: piecewise YAML differs from the whole conversion:\n%s", f, firstLineDiff(whole, got.Bytes()))
		}
	}
}

func firstLineDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) && i < len(g); i++ {
		if w[i] != g[i] {
			return fmt.Sprintf("line %d:\n want %q\n  got %q", i+1, w[i], g[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}
