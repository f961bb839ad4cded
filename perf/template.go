package perf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// resolveTemplateParams is upstream's (operations.go): a "$name" value is the workload's
// parameter, "$name|default" falls back to the YAML default.
func resolveTemplateParams(params map[string]any, w *Workload) (map[string]any, error) {
	if len(params) == 0 {
		return params, nil
	}
	out := maps.Clone(params)
	// In key order, so that of two unresolved parameters the same one is named every run.
	for _, k := range slices.Sorted(maps.Keys(out)) {
		v := out[k]
		s, ok := v.(string)
		if !ok || !strings.HasPrefix(s, "$") {
			continue
		}
		key, def, hasDef := strings.Cut(s[1:], "|")
		if val, found := w.Params.values[key]; found {
			w.Params.used[key] = true
			out[k] = val
			continue
		}
		if hasDef {
			var val any
			if err := yaml.Unmarshal([]byte(def), &val); err != nil {
				return nil, fmt.Errorf("decoding parameter %q default %q as YAML: %w", key, def, err)
			}
			out[k] = val
			continue
		}
		return nil, fmt.Errorf("parameter %q not found", key)
	}
	return out, nil
}

// templateFuncs are upstream's getTemplateFuncs. A function that cannot convert its argument
// panics there; text/template turns the panic of a function into an error of Execute.
var templateFuncs = template.FuncMap{
	"AddFloat":      addFloat,
	"AddInt":        func(n ...any) int { return int(addFloat(n...)) },
	"DivideFloat":   divideFloat,
	"DivideInt":     func(i, j any) int { return int(divideFloat(i, j)) },
	"Int":           toInt,
	"JSON":          toJSON,
	"Mod":           func(a, b any) int { return int(toFloat64(a)) % int(toFloat64(b)) },
	"MultiplyFloat": multiplyFloat,
	"MultiplyInt":   func(n ...any) int { return int(multiplyFloat(n...)) },
	"SubtractFloat": func(i, j any) float64 { return toFloat64(i) - toFloat64(j) },
	"SubtractInt":   func(i, j any) int { return int(toFloat64(i) - toFloat64(j)) },
}

func toFloat64(v any) float64 {
	switch i := v.(type) {
	case float64:
		return i
	case float32:
		return float64(i)
	case int64:
		return float64(i)
	case int32:
		return float64(i)
	case int:
		return float64(i)
	case uint64:
		return float64(i)
	case uint32:
		return float64(i)
	case uint:
		return float64(i)
	case string:
		if f, err := strconv.ParseFloat(i, 64); err == nil {
			return f
		}
	}
	panic(fmt.Sprintf("cannot cast %v to float64", v))
}

func toInt(v any) int {
	switch i := v.(type) {
	case int:
		return i
	case string:
		if n, err := strconv.Atoi(i); err == nil {
			return n
		}
		panic(fmt.Sprintf("cannot cast %v to int", v))
	}
	return int(toFloat64(v))
}

func toJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("cannot JSON-encode %v: %v", v, err))
	}
	return strings.TrimSpace(b.String())
}

func addFloat(n ...any) float64 {
	s := 0.0
	for _, x := range n {
		s += toFloat64(x)
	}
	return s
}

func multiplyFloat(n ...any) float64 {
	p := 1.0
	for _, x := range n {
		p *= toFloat64(x)
	}
	return p
}

func divideFloat(i, j any) float64 {
	d := toFloat64(j)
	if d == 0 {
		panic("division by zero")
	}
	return toFloat64(i) / d
}

// templates renders the files of a config, as upstream's getSpecFromTextTemplateFile does:
// text/template with templateFuncs, then the result decoded strictly. Parsed templates and the
// last rendering of each file are kept: most templates do not use .Index, and their thousands
// of renderings are the same object.
type templates struct {
	dir    string
	parsed map[string]*template.Template
	last   map[string]rendered
}

type rendered struct {
	text []byte
	obj  runtime.Object
}

func newTemplates(dir string) *templates {
	return &templates{dir: dir, parsed: map[string]*template.Template{}, last: map[string]rendered{}}
}

// path resolves a config-relative path (scheduler_perf runs in the config's directory).
func (t *templates) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(t.dir, p)
}

// object renders the template at p with env and decodes the one object it describes; the
// caller gets its own copy. With into (a *corev1.Pod, a *corev1.Node), the text is decoded
// into it as upstream's getSpecFromTextTemplateFile does, sigs.k8s.io/yaml's UnmarshalStrict:
// unknown fields refused, field names matched without regard to case (encoding/json), so a
// template's "NodeAffinityPolicy" works as it does upstream. Without, the object is decoded
// by its apiVersion and kind as the apiserver's strict field validation would (createAny).
func (t *templates) object(p string, env map[string]any, into runtime.Object) (runtime.Object, error) {
	full := t.path(p)
	tmpl, ok := t.parsed[full]
	if !ok {
		data, err := os.ReadFile(full)
		if err != nil {
			return nil, err
		}
		tmpl, err = template.New(filepath.Base(full)).Funcs(templateFuncs).Parse(string(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", full, err)
		}
		t.parsed[full] = tmpl
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, env); err != nil {
		return nil, fmt.Errorf("%s: %w", full, err)
	}
	if last, ok := t.last[full]; ok && bytes.Equal(last.text, buf.Bytes()) {
		return last.obj.DeepCopyObject(), nil
	}
	var obj runtime.Object
	if into != nil {
		if err := yaml.UnmarshalStrict(buf.Bytes(), into); err != nil {
			return nil, fmt.Errorf("%s: %w", full, err)
		}
		obj = into
	} else {
		objs, err := manifest.LoadBytes(full, buf.Bytes(), manifest.LoadOptions{})
		if err != nil {
			return nil, err
		}
		if len(objs) != 1 {
			return nil, fmt.Errorf("%s: expected one object, the template gives %d", full, len(objs))
		}
		obj = objs[0].Obj
	}
	t.last[full] = rendered{text: buf.Bytes(), obj: obj.DeepCopyObject()}
	return obj, nil
}

// env is a template's environment: the op's parameters, .Index and .Count.
func env(params map[string]any, index, count int) map[string]any {
	e := make(map[string]any, len(params)+2)
	maps.Copy(e, params)
	e["Index"], e["Count"] = index, count
	return e
}
