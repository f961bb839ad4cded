package capacity

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func planSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := jsonschema.NewCompiler().Compile("../plan.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validatePlan(sch *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// samplePlan has a found answer with a cost, a template with none found, and a warning.
func samplePlan(t *testing.T) *Plan {
	t.Helper()
	cost := 2.5
	pass := func(tmpl, n int) bool { return tmpl == 0 && (n == 2 || n >= 6) }
	f := newFake(2, pass)
	eval := func(ctx context.Context, tmpl, n int) (Run, error) {
		run, err := f.eval(ctx, tmpl, n)
		run.Utilization = map[string]float64{"cpu": 1 / float64(n+1), "pods": 0.5}
		run.Unbound = 3
		return run, err
	}
	p, err := Search(context.Background(), []Template{{Name: "m5", File: "m5.yaml", CostPerNode: &cost}, {Name: "tiny", File: "tiny.yaml"}},
		Options{MaxNodes: 8, Parallel: 4, GivenNodes: 2}, eval)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanJSONMatchesTheSchema(t *testing.T) {
	sch := planSchema(t)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, samplePlan(t)); err != nil {
		t.Fatal(err)
	}
	if err := validatePlan(sch, buf.Bytes()); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	for _, tc := range []struct {
		name   string
		mutate func(p map[string]any)
		want   string
	}{
		{"missing templates", func(p map[string]any) { delete(p, "templates") }, "missing property 'templates'"},
		{"nodesNeeded as a string", func(p map[string]any) { p["templates"].([]any)[0].(map[string]any)["nodesNeeded"] = "3" }, "/templates/0/nodesNeeded"},
		{"unknown run field", func(p map[string]any) {
			p["templates"].([]any)[0].(map[string]any)["runs"].([]any)[0].(map[string]any)["zone"] = "a"
		}, "/templates/0/runs/0"},
		{"wrong kind", func(p map[string]any) { p["kind"] = "Report" }, "/kind"},
	} {
		var p map[string]any
		if err := json.Unmarshal(buf.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		tc.mutate(p)
		b, _ := json.Marshal(p)
		if err := validatePlan(sch, b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", tc.name, err, tc.want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, samplePlan(t)); err != nil {
		t.Fatal(err)
	}
	// m5: [0 1 2 4]: 2 passes and 4 fails; 1 failed, so 2 is the answer, at 2.5 each.
	// tiny: [0 1 2 4] and [8] = max fail.
	want := `Goal: every pod bound to a node and no workload failing at the end of the run.
Each run: 2 given node(s) plus the template's copies, up to 8; 4 run(s) at a time.

TEMPLATE  FILE       NODES NEEDED  COST/NODE  TOTAL COST
m5        m5.yaml    2             2.5        5
tiny      tiny.yaml  none          -          -

m5: 4 run(s)
NODES  GOAL  UNSCHEDULABLE  UNBOUND  USED  CPU     PODS
0      fail  0              3        0     100.0%  50.0%
1      fail  0              3        0     50.0%   50.0%
2      pass  0              3        0     33.3%   50.0%
4      fail  0              3        0     20.0%   50.0%
warning: non-monotonic: 4 nodes fail the goal although 2 pass

tiny: 5 run(s)
NODES  GOAL  UNSCHEDULABLE  UNBOUND  USED  CPU     PODS
0      fail  0              3        0     100.0%  50.0%
1      fail  0              3        0     50.0%   50.0%
2      fail  0              3        0     33.3%   50.0%
4      fail  0              3        0     20.0%   50.0%
8      fail  0              3        0     11.1%   50.0%
warning: the goal was not met with up to 8 nodes of the template
`
	if got := buf.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}
