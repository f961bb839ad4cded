package stages

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"sigs.k8s.io/yaml"
)

// maxRenderBytes caps one template's output: stages are user input and a
// template can loop.
const maxRenderBytes = 1 << 20

// tmpl is a parsed template. Executions take a clone from a pool whose Env
// functions read an envSlot, so the (costly) clone is made once per
// concurrent user rather than once per render.
type tmpl struct {
	field string
	t     *template.Template
	pool  sync.Pool    // of *boundTmpl
	cache *renderCache // nil: the template is not cacheable
}

// boundTmpl is a clone of a tmpl whose Env functions call slot.env.
type boundTmpl struct {
	t    *template.Template
	slot *envSlot
}

// envSlot is an Env that forwards to the Env of the render in progress, with that
// render's loop budget.
type envSlot struct {
	env    Env
	budget loopBudget
}

func (s *envSlot) Now() time.Time                { return s.env.Now() }
func (s *envSlot) StartTime() time.Time          { return s.env.StartTime() }
func (s *envSlot) NodeIP() string                { return s.env.NodeIP() }
func (s *envSlot) NodeName() string              { return s.env.NodeName() }
func (s *envSlot) NodePort() int                 { return s.env.NodePort() }
func (s *envSlot) NodeIPWith(n string) string    { return s.env.NodeIPWith(n) }
func (s *envSlot) NodeIPsWith(n string) []string { return s.env.NodeIPsWith(n) }
func (s *envSlot) PodIP() string                 { return s.env.PodIP() }
func (s *envSlot) PodIPWith(node string, hostNetwork bool, uid, name, namespace string) (string, error) {
	return s.env.PodIPWith(node, hostNetwork, uid, name, namespace)
}
func (s *envSlot) PodIPsWith(node string, hostNetwork bool, uid, name, namespace string) ([]string, error) {
	return s.env.PodIPsWith(node, hostNetwork, uid, name, namespace)
}
func (s *envSlot) StorageClass(name string) map[string]any     { return s.env.StorageClass(name) }
func (s *envSlot) VolumeNodeAffinity() (map[string]any, error) { return s.env.VolumeNodeAffinity() }

var undefinedFunc = regexp.MustCompile(`function "([^"]+)" not defined`)

func (s *Stage) compileTemplate(field, text string) (*tmpl, error) {
	// KWOK trims the text before parsing.
	t, err := template.New(s.Name).Funcs(baseFuncs).Parse(strings.TrimSpace(text))
	if err != nil {
		if m := undefinedFunc.FindStringSubmatch(err.Error()); m != nil && slices.Contains(removedSprig, m[1]) {
			err = fmt.Errorf("%w (kwoksim removes sprig functions that read the environment, files, "+
				"the network, the wall clock or global randomness)", err)
		}
		return nil, s.errorf(field, err)
	}
	// The cache analyses the tree as written; the budget calls are added after it.
	cache := newRenderCache(t)
	chargeLoops(t)
	if cache != nil {
		chargeLoops(cache.base) // the cache's sentinel renders run under the same budget
	}
	return &tmpl{field: field, t: t, cache: cache}, nil
}

func (t *tmpl) bound() (*boundTmpl, error) {
	if b, ok := t.pool.Get().(*boundTmpl); ok {
		return b, nil
	}
	c, err := t.t.Clone()
	if err != nil {
		return nil, err
	}
	slot := &envSlot{}
	c.Funcs(envFuncs(slot))
	c.Funcs(budgetFuncs(func() *loopBudget { return &slot.budget }))
	return &boundTmpl{t: c, slot: slot}, nil
}

// render executes the template over the object (given as JSON) and converts
// the YAML it prints to JSON, as KWOK's renderer.ToJSON does. The object is
// decoded afresh with json.Number, as KWOK does, so numbers print as written
// and nothing a template mutates leaks into another render.
func (t *tmpl) render(obj []byte, env Env) ([]byte, error) {
	data, err := decodeTemplateData(obj)
	if err != nil {
		return nil, err
	}
	b, err := t.bound()
	if err != nil {
		return nil, err
	}
	b.slot.env = env
	b.slot.budget = loopBudget{left: maxLoopSteps}
	w := &cappedBuffer{limit: maxRenderBytes}
	err = b.t.Execute(w, data)
	b.slot.env = nil // hold no Env while pooled
	t.pool.Put(b)
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	out, err := yaml.YAMLToJSON(w.buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("output is not YAML: %w\n%s", err, excerpt(w.buf.Bytes()))
	}
	return out, nil
}

// cappedBuffer fails a write that would pass limit; text/template then stops
// and returns the error.
type cappedBuffer struct {
	buf   bytes.Buffer
	limit int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > b.limit {
		return 0, fmt.Errorf("%w: more than %d bytes", ErrRenderTooLarge, b.limit)
	}
	return b.buf.Write(p)
}

// excerpt shortens rendered output for an error message.
func excerpt(b []byte) string {
	const n = 2048
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
