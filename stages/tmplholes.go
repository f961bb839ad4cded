package stages

import (
	"errors"
	"time"
)

// envCall is one Env call a render made: the function, its arguments and
// what it answered. The fast path keeps the calls it has made so that a
// fallback to the full render replays them instead of calling the Env again
// (PodIP hands out a fresh address per call); the recording of a full render
// is what a cache entry is built from.
type envCall struct {
	fn   string
	args []any
	str  string   // the string results; Now and StartTime formatted as templates see them
	strs []string // the list results
	num  int      // NodePort
	t    time.Time
	err  error
}

// siteArgs evaluates a site's arguments as text/template would, without
// calling the Env. ok is false when an argument is not exactly of its
// parameter's type (text/template would fail the call, with a message only
// the full render produces) or reads something the walk does not model.
func siteArgs(s *site, obj map[string]any) (args []any, ok bool) {
	if len(s.args) == 0 {
		return nil, true
	}
	params := siteFuncs[s.fn].params
	args = make([]any, 0, len(s.args))
	for j, a := range s.args {
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
		args = append(args, v)
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

// callEnvFunc makes fn's call on env with args as siteArgs gives them.
func callEnvFunc(fn string, args []any, env Env) envCall {
	c := envCall{fn: fn, args: args}
	switch fn {
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
	case "NodePort":
		c.num = env.NodePort()
	case "PodIP":
		c.str = env.PodIP()
	case "NodeIPWith":
		c.str = env.NodeIPWith(args[0].(string))
	case "NodeIPsWith":
		c.strs = env.NodeIPsWith(args[0].(string))
	case "PodIPWith":
		c.str, c.err = env.PodIPWith(args[0].(string), args[1].(bool), args[2].(string), args[3].(string), args[4].(string))
	case "PodIPsWith":
		c.strs, c.err = env.PodIPsWith(args[0].(string), args[1].(bool), args[2].(string), args[3].(string), args[4].(string))
	default:
		c.err = errors.New("kwoksim: no site function " + fn)
	}
	return c
}

// recordEnv passes every call on to env and records it.
type recordEnv struct {
	env   Env
	calls []envCall
}

func (r *recordEnv) do(fn string, args ...any) envCall {
	c := callEnvFunc(fn, args, r.env)
	r.calls = append(r.calls, c)
	return c
}

func (r *recordEnv) Now() time.Time       { return r.do("Now").t }
func (r *recordEnv) StartTime() time.Time { return r.do("StartTime").t }
func (r *recordEnv) NodeIP() string       { return r.do("NodeIP").str }
func (r *recordEnv) NodeName() string     { return r.do("NodeName").str }
func (r *recordEnv) NodePort() int        { return r.do("NodePort").num }
func (r *recordEnv) PodIP() string        { return r.do("PodIP").str }
func (r *recordEnv) NodeIPWith(n string) string {
	return r.do("NodeIPWith", n).str
}
func (r *recordEnv) NodeIPsWith(n string) []string {
	return r.do("NodeIPsWith", n).strs
}
func (r *recordEnv) PodIPWith(node string, hostNetwork bool, uid, name, namespace string) (string, error) {
	c := r.do("PodIPWith", node, hostNetwork, uid, name, namespace)
	return c.str, c.err
}
func (r *recordEnv) PodIPsWith(node string, hostNetwork bool, uid, name, namespace string) ([]string, error) {
	c := r.do("PodIPsWith", node, hostNetwork, uid, name, namespace)
	return c.strs, c.err
}

// The provisioning functions are never sites (a template calling one is not cached): they pass
// through unrecorded.
func (r *recordEnv) StorageClass(name string) map[string]any     { return r.env.StorageClass(name) }
func (r *recordEnv) VolumeNodeAffinity() (map[string]any, error) { return r.env.VolumeNodeAffinity() }

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

func (r *replayEnv) NodePort() int {
	if c, ok := r.next("NodePort"); ok {
		return c.num
	}
	return r.env.NodePort()
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

func (r *replayEnv) NodeIPsWith(n string) []string {
	if c, ok := r.next("NodeIPsWith"); ok {
		return c.strs
	}
	return r.env.NodeIPsWith(n)
}

func (r *replayEnv) PodIPWith(node string, hostNetwork bool, uid, name, namespace string) (string, error) {
	if c, ok := r.next("PodIPWith"); ok {
		return c.str, c.err
	}
	return r.env.PodIPWith(node, hostNetwork, uid, name, namespace)
}

func (r *replayEnv) PodIPsWith(node string, hostNetwork bool, uid, name, namespace string) ([]string, error) {
	if c, ok := r.next("PodIPsWith"); ok {
		return c.strs, c.err
	}
	return r.env.PodIPsWith(node, hostNetwork, uid, name, namespace)
}

func (r *replayEnv) StorageClass(name string) map[string]any     { return r.env.StorageClass(name) }
func (r *replayEnv) VolumeNodeAffinity() (map[string]any, error) { return r.env.VolumeNodeAffinity() }
