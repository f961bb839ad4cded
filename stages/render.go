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

// renderObject renders the template for in: from the cache when the template
// is cacheable and the read set has been seen, else in full. fast false
// forces the full render (the reference the cache is tested against).
func (t *tmpl) renderObject(in *renderInput, env Env, fast bool) ([]byte, error) {
	c := t.cache
	if !fast || c == nil {
		return t.renderFull(in, env)
	}
	var kb [512]byte
	key, ok := appendKey(kb[:0], in.obj, true, c.plan)
	if !ok {
		return t.renderFull(in, env)
	}
	e := c.lookup(key)
	if e == nil {
		js, err := in.json()
		if err != nil {
			return nil, err
		}
		if e = c.build(js); e == nil {
			// A sentinel render failed; the full render fails alike and
			// says how.
			return t.renderFull(in, env)
		}
		c.store(key, e)
	}
	if !e.splice {
		return t.renderFull(in, env)
	}
	args, ok := holeArgs(c.holes, in.obj)
	if !ok {
		return t.renderFull(in, env)
	}
	vals, calls, err := callHoles(c.holes, args, env)
	if err == nil {
		if out, ok := e.fill(vals); ok {
			return out, nil
		}
	}
	// Render in full on the Env answers already given.
	return t.renderFull(in, &replayEnv{env: env, calls: calls})
}

func (t *tmpl) renderFull(in *renderInput, env Env) ([]byte, error) {
	js, err := in.json()
	if err != nil {
		return nil, err
	}
	return t.render(js, env)
}
