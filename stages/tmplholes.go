package stages

import (
	"time"
)

// envCall is one Env call made for a hole, kept so that a fallback to the
// full render replays it instead of calling the Env again (PodIP hands out
// a fresh address per call).
type envCall struct {
	fn  string
	str string
	t   time.Time
	err error
}

// holeArgs evaluates every hole's arguments as text/template would, without
// calling the Env. ok is false when an argument is not exactly of its
// parameter's type (text/template would fail the call, with a message only
// the full render produces) or reads something the walk does not model.
func holeArgs(holes []hole, obj map[string]any) (args [][]any, ok bool) {
	args = make([][]any, len(holes))
	for i, h := range holes {
		params := holeFuncs[h.fn]
		for j, a := range h.args {
			v, present, ok := evalHoleArg(a, obj)
			if !ok || !present {
				return nil, false
			}
			switch params[j] {
			case 's':
				if _, isStr := v.(string); !isStr {
					return nil, false
				}
			case 'b':
				if _, isBool := v.(bool); !isBool {
					return nil, false
				}
			}
			args[i] = append(args[i], v)
		}
	}
	return args, true
}

// evalHoleArg reads a literal, a path or an `or`. The object holds float64
// where the template's data holds json.Number, which differ in truth and
// type, so any number gives up (ok false).
func evalHoleArg(a holeArg, obj map[string]any) (v any, present, ok bool) {
	switch a.kind {
	case 's':
		return a.str, true, true
	case 'b':
		return a.b, true, true
	case 'p':
		var cur any = obj
		for _, key := range a.path {
			m, isMap := cur.(map[string]any)
			if !isMap {
				// A missing value stays missing; null or a scalar is an
				// error in text/template.
				if !present && cur == nil {
					continue
				}
				return nil, false, false
			}
			cur, present = m[key]
		}
		if len(a.path) == 0 {
			present = true
		}
		switch cur.(type) {
		case string, bool, map[string]any, []any, nil:
			return cur, present, true
		}
		return nil, false, false
	case 'o':
		for i, sub := range a.or {
			v, present, ok := evalHoleArg(sub, obj)
			if !ok {
				return nil, false, false
			}
			if i == len(a.or)-1 || holeTruth(v, present) {
				return v, present, true
			}
		}
	}
	return nil, false, false
}

func holeTruth(v any, present bool) bool {
	if !present {
		return false
	}
	switch t := v.(type) {
	case string:
		return t != ""
	case bool:
		return t
	case map[string]any:
		return len(t) != 0
	case []any:
		return len(t) != 0
	}
	return false
}

// callHoles calls the Env once per hole, in template order, recording the
// calls. It stops at the first error.
func callHoles(holes []hole, args [][]any, env Env) (vals []string, calls []envCall, err error) {
	vals = make([]string, 0, len(holes))
	calls = make([]envCall, 0, len(holes))
	for i, h := range holes {
		c := envCall{fn: h.fn}
		a := args[i]
		switch h.fn {
		case "Now":
			c.t = env.Now()
			c.str = c.t.Format(time.RFC3339Nano)
		case "StartTime":
			c.t = env.StartTime()
			c.str = c.t.Format(time.RFC3339Nano)
		case "NodeIP":
			c.str = env.NodeIP()
		case "NodeName":
			c.str = env.NodeName()
		case "PodIP":
			c.str = env.PodIP()
		case "NodeIPWith":
			c.str = env.NodeIPWith(a[0].(string))
		case "PodIPWith":
			c.str, c.err = env.PodIPWith(a[0].(string), a[1].(bool), a[2].(string), a[3].(string), a[4].(string))
		}
		calls = append(calls, c)
		if c.err != nil {
			return nil, calls, c.err
		}
		vals = append(vals, c.str)
	}
	return vals, calls, nil
}

// replayEnv answers the calls already made, in order, then defers to env.
type replayEnv struct {
	env   Env
	calls []envCall
}

func (r *replayEnv) next(fn string) (envCall, bool) {
	if len(r.calls) == 0 || r.calls[0].fn != fn {
		return envCall{}, false
	}
	c := r.calls[0]
	r.calls = r.calls[1:]
	return c, true
}

func (r *replayEnv) Now() time.Time {
	if c, ok := r.next("Now"); ok {
		return c.t
	}
	return r.env.Now()
}

func (r *replayEnv) StartTime() time.Time {
	if c, ok := r.next("StartTime"); ok {
		return c.t
	}
	return r.env.StartTime()
}

func (r *replayEnv) NodeIP() string {
	if c, ok := r.next("NodeIP"); ok {
		return c.str
	}
	return r.env.NodeIP()
}

func (r *replayEnv) NodeName() string {
	if c, ok := r.next("NodeName"); ok {
		return c.str
	}
	return r.env.NodeName()
}

func (r *replayEnv) PodIP() string {
	if c, ok := r.next("PodIP"); ok {
		return c.str
	}
	return r.env.PodIP()
}

func (r *replayEnv) NodeIPWith(n string) string {
	if c, ok := r.next("NodeIPWith"); ok {
		return c.str
	}
	return r.env.NodeIPWith(n)
}

func (r *replayEnv) PodIPWith(node string, hostNetwork bool, uid, name, namespace string) (string, error) {
	if c, ok := r.next("PodIPWith"); ok {
		return c.str, c.err
	}
	return r.env.PodIPWith(node, hostNetwork, uid, name, namespace)
}

func (r *replayEnv) NodePort() int                 { return r.env.NodePort() }
func (r *replayEnv) NodeIPsWith(n string) []string { return r.env.NodeIPsWith(n) }
func (r *replayEnv) PodIPsWith(node string, hostNetwork bool, uid, name, namespace string) ([]string, error) {
	return r.env.PodIPsWith(node, hostNetwork, uid, name, namespace)
}
