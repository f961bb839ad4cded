package stages

import (
	"encoding/json"
)

// renderInput is the object a stage's templates render, with its JSON
// encoding made at most once and only when a render needs it.
type renderInput struct {
	obj  map[string]any
	js   []byte
	err  error
	done bool
}

func (in *renderInput) json() ([]byte, error) {
	if !in.done {
		in.js, in.err = json.Marshal(in.obj)
		in.done = true
	}
	return in.js, in.err
}

// rendered is a template's output. On a render-cache hit it also carries the
// output decoded, as the cache entry's tree with vals in its holes.
type rendered struct {
	data []byte
	tree *pnode
	vals []string
}

// renderObject renders the template for in: from the cache when the template
// is cacheable and the read set has been seen, else in full. fast false
// forces the full render (the reference the cache is tested against). A
// non-empty wrap nests the output: wrap, the JSON, then '}'.
func (t *tmpl) renderObject(in *renderInput, env Env, fast bool, wrap []byte) (rendered, error) {
	c := t.cache
	if !fast || c == nil {
		return t.renderFull(in, env, wrap)
	}
	var kb [512]byte
	key, ok := appendKey(kb[:0], in.obj, true, c.plan)
	if !ok {
		return t.renderFull(in, env, wrap)
	}
	vs := c.lookup(key)
	if vs == nil {
		// A new read set: render in full, recording the Env calls, and
		// build its entry from that render.
		return t.renderAndBuild(in, env, wrap, key)
	}
	if !vs[0].splice {
		return t.renderFull(in, env, wrap)
	}
	e, vals, calls, shapeless := callEnv(vs, c.sites, in.obj, env)
	if e != nil {
		if out, ok := e.fill(vals, wrap); ok {
			return rendered{data: out, tree: e.tree, vals: vals}, nil
		}
	}
	// Render in full on the Env answers already given; answers of a new
	// shape make a new variant of the read set.
	replay := &replayEnv{env: env, calls: calls}
	if shapeless {
		return t.renderAndBuild(in, replay, wrap, key)
	}
	return t.renderFull(in, replay, wrap)
}

// renderAndBuild renders in full, recording the Env calls, and stores the
// entry built from that render.
func (t *tmpl) renderAndBuild(in *renderInput, env Env, wrap []byte, key []byte) (rendered, error) {
	rec := &recordEnv{env: env}
	r, err := t.renderFull(in, rec, wrap)
	if err != nil {
		// The failure may depend on the Env's answers: build nothing.
		return r, err
	}
	js, _ := in.json() // renderFull succeeded, so this did
	t.cache.store(key, t.cache.build(js, in.obj, rec.calls))
	return r, nil
}

func (t *tmpl) renderFull(in *renderInput, env Env, wrap []byte) (rendered, error) {
	js, err := in.json()
	if err != nil {
		return rendered{}, err
	}
	b, err := t.render(js, env)
	if err != nil || len(wrap) == 0 {
		return rendered{data: b}, err
	}
	out := make([]byte, 0, len(wrap)+len(b)+1)
	out = append(out, wrap...)
	out = append(out, b...)
	return rendered{data: append(out, '}')}, nil
}
