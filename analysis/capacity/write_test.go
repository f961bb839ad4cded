package capacity

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
m5        m5.yaml    2             2.50       5.00
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

// Money reads alike in a template's row, with the price's decimals and at least 2, and without
// the product's floating-point noise, in the table and in the JSON: 3 × 0.38 is
// 1.1400000000000001 in floating point.
func TestCostFormat(t *testing.T) {
	for _, tc := range []struct {
		price   float64
		nodes   int
		perNode string
		total   string
		json    string
	}{
		{0.38, 3, "0.38", "1.14", `"cost": 1.14,`},
		{1, 6, "1.00", "6.00", `"cost": 6,`},
		{1.8, 3, "1.80", "5.40", `"cost": 5.4,`},
		{0.0416, 3, "0.0416", "0.1248", `"cost": 0.1248,`},
		{0.1, 7, "0.10", "0.70", `"cost": 0.7,`},
	} {
		price := tc.price
		p, err := Search(context.Background(), []Template{{Name: "t", File: "t.yaml", CostPerNode: &price}},
			Options{MaxNodes: 16, Parallel: 1}, func(_ context.Context, _, n int) (Run, error) {
				return Run{Nodes: n, Passed: n >= tc.nodes}, nil
			})
		if err != nil {
			t.Fatal(err)
		}
		var table, js bytes.Buffer
		if err := WriteTable(&table, p); err != nil {
			t.Fatal(err)
		}
		if err := WriteJSON(&js, p); err != nil {
			t.Fatal(err)
		}
		row := fmt.Sprintf("t.yaml  %d             %s", tc.nodes, tc.perNode)
		if !strings.Contains(table.String(), row) || !strings.Contains(table.String(), "  "+tc.total+"\n") {
			t.Errorf("%v × %d: table lacks %q and total %s:\n%s", tc.price, tc.nodes, row, tc.total, table.String())
		}
		if !strings.Contains(js.String(), tc.json) {
			t.Errorf("%v × %d: JSON lacks %s:\n%s", tc.price, tc.nodes, tc.json, js.String())
		}
	}
}
