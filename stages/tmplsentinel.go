package stages

import (
	"bytes"
	"errors"
	"strconv"
	"text/template"

	"sigs.k8s.io/yaml"
)

// Sentinel renders: the template rendered with each hole value replaced by a
// marker string, so that where the holes land in the output can be found and
// cut out (see tmplcache.go).

const sentinelMark = "kwoksim-hole-"

// errSentinel stops a sentinel render that strays from the recorded calls.
var errSentinel = errors.New("kwoksim: sentinel render strayed from the recorded calls")

// sentinelTmpl is a clone whose site functions answer the recorded calls in
// their shapes, each non-empty string replaced by the sentinel
// sentinelMark + prefix + slot + "-".
type sentinelTmpl struct {
	t      *template.Template
	prefix byte
	calls  []envCall // the recorded calls
	sites  []int     // the site of each call this render made
	slot   int
	budget loopBudget // the render's loop budget (loopbudget.go)
}

func sentinel(prefix byte, k int) string {
	return sentinelMark + string(prefix) + strconv.Itoa(k) + "-"
}

// answer returns the recorded call the render's next call (at site i) stands
// for, or errSentinel.
func (s *sentinelTmpl) answer(i int, fn string) (*envCall, error) {
	k := len(s.sites)
	s.sites = append(s.sites, i)
	if k >= len(s.calls) || s.calls[k].fn != fn {
		return nil, errSentinel
	}
	c := &s.calls[k]
	return c, c.err
}

func (s *sentinelTmpl) str(v string) string {
	if v == "" {
		return ""
	}
	out := sentinel(s.prefix, s.slot)
	s.slot++
	return out
}

func (c *renderCache) sentinelClone() (*sentinelTmpl, error) {
	if s, ok := c.pool.Get().(*sentinelTmpl); ok {
		return s, nil
	}
	t, err := c.base.Clone()
	if err != nil {
		return nil, err
	}
	s := &sentinelTmpl{t: t}
	funcs := template.FuncMap{}
	for i, st := range c.sites {
		switch fn := st.fn; siteFuncs[fn].result {
		case 'h':
			funcs[siteFuncName(i)] = func(...any) (string, error) {
				a, err := s.answer(i, fn)
				if err != nil {
					return "", err
				}
				return s.str(a.str), nil
			}
		case 'l':
			funcs[siteFuncName(i)] = func(...any) ([]string, error) {
				a, err := s.answer(i, fn)
				if err != nil {
					return nil, err
				}
				out := make([]string, len(a.strs))
				for j, v := range a.strs {
					out[j] = s.str(v)
				}
				return out, nil
			}
		case 'v':
			funcs[siteFuncName(i)] = func(...any) (int, error) {
				a, err := s.answer(i, fn)
				if err != nil {
					return 0, err
				}
				return a.num, nil
			}
		}
	}
	t.Funcs(funcs)
	t.Funcs(budgetFuncs(func() *loopBudget { return &s.budget }))
	return s, nil
}

// renderSentinels renders obj with sentinels of the given prefix answering
// calls; sites is the site of each call the render made.
func (c *renderCache) renderSentinels(obj []byte, prefix byte, calls []envCall) (yamlOut, jsonOut []byte, sites []int, slots int, err error) {
	data, err := decodeTemplateData(obj)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	s, err := c.sentinelClone()
	if err != nil {
		return nil, nil, nil, 0, err
	}
	s.prefix, s.calls, s.sites, s.slot = prefix, calls, nil, 0
	s.budget = loopBudget{left: maxLoopSteps}
	w := &cappedBuffer{limit: maxRenderBytes}
	err = s.t.Execute(w, data)
	sites, slots = s.sites, s.slot
	s.calls, s.sites = nil, nil
	c.pool.Put(s)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	js, err := yaml.YAMLToJSON(w.buf.Bytes())
	if err != nil {
		return nil, nil, nil, 0, err
	}
	return w.buf.Bytes(), js, sites, slots, nil
}

// cutAtSentinels splits js at each `"<sentinel>"` that is a whole JSON
// string value (not a key, not part of a longer string). Any other
// appearance of the mark fails the cut.
func cutAtSentinels(js []byte, prefix byte, holes int) (segs [][]byte, occ []int, ok bool) {
	last := 0
	rest := 0
	for {
		i := bytes.Index(js[rest:], []byte(sentinelMark))
		if i < 0 {
			break
		}
		i += rest
		j := i + len(sentinelMark)
		if j >= len(js) || js[j] != prefix {
			return nil, nil, false
		}
		j++
		k := j
		for k < len(js) && js[k] >= '0' && js[k] <= '9' {
			k++
		}
		h, err := strconv.Atoi(string(js[j:k]))
		if err != nil || h >= holes || string(js[j:k]) != strconv.Itoa(h) {
			return nil, nil, false
		}
		// "…<mark><prefix><h>-" then a value delimiter.
		if k+2 >= len(js) || js[k] != '-' || js[k+1] != '"' || !bytes.ContainsRune([]byte(",]}"), rune(js[k+2])) {
			return nil, nil, false
		}
		if i < 2 || js[i-1] != '"' || !bytes.ContainsRune([]byte(":[,"), rune(js[i-2])) {
			return nil, nil, false
		}
		segs = append(segs, js[last:i-1])
		occ = append(occ, h)
		last = k + 2
		rest = k + 2
	}
	segs = append(segs, js[last:])
	return segs, occ, true
}
