package stages

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const selectorObject = `{
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "p", "labels": {"app": "web"}, "annotations": {"a": "1"}},
  "spec": {"replicas": 3, "containers": [{"name": "c"}], "hostNetwork": false},
  "status": {"phase": "Running"}
}`

func jqSelector(key, op string, values ...string) string {
	s := "selector:\n  matchExpressions:\n  - key: '" + key + "'\n    operator: " + op + "\n"
	if len(values) > 0 {
		s += "    values:\n"
		for _, v := range values {
			s += "    - '" + v + "'\n"
		}
	}
	return s
}

func celSelector(expr string) string {
	return "selector:\n  matchExpressions:\n  - cel:\n      expression: \"" + expr + "\"\n"
}

func TestMatchSelector(t *testing.T) {
	obj := mustObject(t, selectorObject)
	for _, tc := range []struct {
		name string
		spec string
		want bool
	}{
		{"In matches a string", jqSelector(".status.phase", "In", "Running"), true},
		{"In misses", jqSelector(".status.phase", "In", "Pending"), false},
		{"NotIn holds", jqSelector(".status.phase", "NotIn", "Pending"), true},
		{"NotIn fails", jqSelector(".status.phase", "NotIn", "Running"), false},
		{"Exists present", jqSelector(".status.phase", "Exists"), true},
		{"Exists null", jqSelector(".status.podIP", "Exists"), false},
		{"DoesNotExist null", jqSelector(".status.podIP", "DoesNotExist"), true},
		{"DoesNotExist present", jqSelector(".status.phase", "DoesNotExist"), false},
		// .status.phase is a string: indexing it is a jq runtime error,
		// which KWOK treats as no result.
		{"runtime error: In false", jqSelector(".status.phase.x", "In", "x"), false},
		{"runtime error: NotIn true", jqSelector(".status.phase.x", "NotIn", "x"), true},
		{"runtime error: Exists false", jqSelector(".status.phase.x", "Exists"), false},
		{"runtime error: DoesNotExist true", jqSelector(".status.phase.x", "DoesNotExist"), true},
		{"object numbers are floats and never In", jqSelector(".spec.replicas", "In", "3"), false},
		{"jq integers are In", jqSelector(".spec.containers | length", "In", "1"), true},
		{"booleans compare as strings", jqSelector(".spec.hostNetwork", "In", "false"), true},
		{"any of several results", jqSelector(".spec.containers[].name, \"z\"", "In", "z"), true},
		{"matchLabels equal", "selector:\n  matchLabels:\n    app: web\n", true},
		{"matchLabels differ", "selector:\n  matchLabels:\n    app: db\n", false},
		{"matchLabels absent key", "selector:\n  matchLabels:\n    tier: x\n", false},
		{"matchAnnotations equal", "selector:\n  matchAnnotations:\n    a: \"1\"\n", true},
		{"empty selector matches all", "selector: {}\n", true},
		{"no selector never matches", "weight: 1\n", false},
		{"CEL true", celSelector("self.status.phase == 'Running'"), true},
		{"CEL false", celSelector("self.status.phase == 'Pending'"), false},
		{"CEL has", celSelector("has(self.status.podIP)"), false},
		{"AND of jq and CEL", "selector:\n  matchLabels:\n    app: web\n  matchExpressions:\n" +
			"  - cel:\n      expression: \"self.metadata.name == 'p'\"\n" +
			"  - jq:\n      key: .status.phase\n      operator: In\n      values: [Pending]\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustStage(t, "s", "Pod", tc.spec)
			got, err := Match([]*Stage{s}, "Pod", obj)
			if err != nil {
				t.Fatal(err)
			}
			if (len(got) == 1) != tc.want {
				t.Errorf("matched %d stages, want match=%v", len(got), tc.want)
			}
		})
	}
}

func TestMatchOrderAndKind(t *testing.T) {
	obj := mustObject(t, selectorObject)
	a := mustStage(t, "a", "Pod", "selector: {}")
	b := mustStage(t, "b", "Node", "selector: {}")
	c := mustStage(t, "c", "Pod", "selector: {}")
	got, err := Match([]*Stage{c, b, a}, "Pod", obj)
	if err != nil {
		t.Fatal(err)
	}
	if names := fmt.Sprint(stageNames(got)); names != "[c a]" {
		t.Errorf("matched %s, want [c a]", names)
	}
}

func TestMatchErrors(t *testing.T) {
	obj := mustObject(t, selectorObject)
	for _, tc := range []struct {
		name    string
		spec    string
		wantErr error
		field   string
	}{
		{"CEL runtime error", celSelector("self.status.podIP == 'x'"), nil, "spec.selector.matchExpressions[0]"},
		{"jq step limit", jqSelector("[range(100000000)] | length", "Exists"), ErrJQStepLimit, "spec.selector.matchExpressions[0]"},
		{"jq result limit", jqSelector("range(20000)", "Exists"), ErrJQResultLimit, "spec.selector.matchExpressions[0]"},
		{"CEL cost limit", celSelector(costlyCEL()), ErrCELCostLimit, "spec.selector.matchExpressions[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustStage(t, "s", "Pod", tc.spec)
			_, err := Match([]*Stage{s}, "Pod", obj)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			var se *Error
			if !errors.As(err, &se) || se.Stage != "s" || se.Field != tc.field {
				t.Errorf("error %v does not name stage s and field %s", err, tc.field)
			}
		})
	}
}

// costlyCEL nests comprehensions to 200³ iterations, far past the cost limit.
func costlyCEL() string {
	nums := make([]string, 200)
	for i := range nums {
		nums[i] = fmt.Sprint(i)
	}
	l := "[" + strings.Join(nums, ",") + "]"
	return l + ".all(a, " + l + ".all(b, " + l + ".all(c, a + b + c >= 0)))"
}
