package manifest

import (
	"strings"
	"testing"
)

// A usage annotation that is not a non-negative quantity is bad input, named by file, line
// and field path, on a pod and on every workload's pod template; good ones load.
func TestUsageAnnotations(t *testing.T) {
	const tmpl = `{"metadata":{"labels":{"app":"a"},"annotations":%s},"spec":{"containers":[{"name":"c","image":"i"}]}}`
	with := func(annotations string) string { return strings.Replace(tmpl, "%s", annotations, 1) }
	for _, tc := range []struct{ doc, want string }{
		{`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","annotations":{"kwoksim.io/cpu-usage":"lots"}},"spec":{"containers":[{"name":"c","image":"i"}]}}`,
			`metadata.annotations["kwoksim.io/cpu-usage"]: expected a non-negative quantity such as "300m" or "256Mi", got "lots"`},
		{`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","annotations":{"kwoksim.io/memory-usage":"-1Mi"}},"spec":{"containers":[{"name":"c","image":"i"}]}}`,
			`metadata.annotations["kwoksim.io/memory-usage"]: expected a non-negative quantity such as "300m" or "256Mi", got "-1Mi"`},
		{`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"a"}},"template":` + with(`{"kwoksim.io/cpu-usage":"1 core"}`) + `}}`,
			`spec.template.metadata.annotations["kwoksim.io/cpu-usage"]: expected a non-negative quantity`},
		{`{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"a"}},"template":` + with(`{"kwoksim.io/memory-usage":""}`) + `}}`,
			`spec.template.metadata.annotations["kwoksim.io/memory-usage"]`},
		{`{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"d"},"spec":{"template":` + with(`{"kwoksim.io/cpu-usage":"x"}`) + `}}`,
			`spec.template.metadata.annotations["kwoksim.io/cpu-usage"]`},
		{`{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"d"},"spec":{"schedule":"* * * * *","jobTemplate":{"spec":{"template":` + with(`{"kwoksim.io/cpu-usage":"x"}`) + `}}}}`,
			`spec.jobTemplate.spec.template.metadata.annotations["kwoksim.io/cpu-usage"]`},
		{`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"a"}},"template":` + with(`{"kwoksim.io/cpu-usage":"x"}`) + `}}]}`,
			`items[0]: spec.template.metadata.annotations["kwoksim.io/cpu-usage"]`},
	} {
		_, err := LoadBytes("w.yaml", []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n---\n"+tc.doc+"\n"), LoadOptions{})
		if err == nil || !strings.HasPrefix(err.Error(), "w.yaml:5: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant w.yaml:5: …%s…", tc.doc, err, tc.want)
		}
	}
	good := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"a"}},"template":` +
		with(`{"kwoksim.io/cpu-usage":"300m","kwoksim.io/memory-usage":"256Mi"}`) + `}}`
	if objs, err := LoadBytes("w.yaml", []byte(good), LoadOptions{}); err != nil || len(objs) != 1 {
		t.Errorf("good annotations: %d objects, %v", len(objs), err)
	}
}
