package trace

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// The fuzz targets hold manifest and trace decoding to their contract with user files: no
// panic, no unbounded work, and every error a *manifest.LoadError naming the file and a line inside
// it. Both live here because trace events carry manifests. `make fuzz` runs each for a set time; plain `go test` runs the seed corpus (the
// repository's manifests and traces, good and bad, plus testdata/fuzz/FuzzX/).

func fuzzSeeds(f *testing.F, patterns ...string) [][]byte {
	var out [][]byte
	for _, p := range patterns {
		files, err := filepath.Glob(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			if info, err := os.Stat(file); err != nil || info.IsDir() {
				continue
			}
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, data)
		}
	}
	if len(out) == 0 {
		f.Fatalf("no seed files match %v", patterns)
	}
	return out
}

// checkLoadErrors checks that err is one *manifest.LoadError, or a join of them, each naming file and
// a line of data (0 for the file as a whole).
func checkLoadErrors(t *testing.T, err error, file string, data []byte) {
	t.Helper()
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	for _, e := range errs {
		var le *manifest.LoadError
		if !errors.As(e, &le) {
			t.Fatalf("error %T is not a *LoadError: %v", e, e)
		}
		if le.File != file || le.Line < 0 || le.Line > lines || le.Msg == "" {
			t.Fatalf("error does not name %s and a line in 1..%d: %+v", file, lines, le)
		}
		if !strings.HasPrefix(le.Error(), file+":") {
			t.Fatalf("message does not start with the file: %q", le.Error())
		}
	}
}

func FuzzLoad(f *testing.F) {
	for _, data := range fuzzSeeds(f, "../../testdata/seed/*", "../../testdata/load/*", "../../testdata/load/*/*",
		"../../testdata/bad/*.yaml", "../../testdata/scenarios/*/*.yaml", "../../testdata/traces/*/nodes.yaml", "../../testdata/openb/golden/nodes.yaml") {
		f.Add(data, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, workloadsOnly bool) {
		const file = "fuzz.yaml"
		opts := manifest.LoadOptions{MaxDocumentBytes: 1 << 16}
		if workloadsOnly {
			opts.Kinds = manifest.WorkloadKinds
		}
		objs, err := manifest.LoadBytes(file, data, opts)
		if err != nil {
			checkLoadErrors(t, err, file, data)
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, o := range objs {
			kind := o.Obj.GetObjectKind().GroupVersionKind().Kind
			if kind == "" || (opts.Kinds != nil && !opts.Kinds[kind]) {
				t.Fatalf("object of kind %q accepted", kind)
			}
			if s := o.Source; s.File != file || s.Doc < 1 || s.Line < 1 || s.Line > lines {
				t.Fatalf("source %+v is not a document of the file", s)
			}
		}
	})
}

func FuzzTrace(f *testing.F) {
	for _, data := range fuzzSeeds(f, "../../testdata/traces/*/trace.*", "../../testdata/bad/traces/*", "../../testdata/openb/golden/trace.jsonl") {
		f.Add(data)
	}
	// The load operation, good and bad (testdata/bad/traces has more).
	for _, line := range []string{
		`{"at":"1m","load":{"kind":"Deployment","namespace":"shop","name":"web","cpu":"1500m","memory":"2Gi"}}`,
		`{"at":"1m","load":{"kind":"StatefulSet","name":"db","cpu":2}}` + "\n" + `{"at":"2m","load":{"kind":"DaemonSet","name":"a","memory":0}}`,
		`{"at":"1m","load":{"kind":"Deployment","name":"web","cpu":"-1"}}`,
		`{"at":"1m","load":{"kind":"Deployment","name":"web","cpu":"1e400"}}`,
		`{"at":"1m","load":{"kind":"Job","name":"web","memory":"1Gi"}}`,
		`{"at":"1m","load":{"kind":"Deployment","name":"web"}}`,
		"apiVersion: kwoksim/v1alpha1\nkind: Trace\nevents:\n- at: 1m\n  load: {kind: ReplicaSet, name: web, cpu: 750m}\n",
	} {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Every input both ways: as JSON Lines, with a small line limit so that it is
		// exercised too, and as a YAML Trace.
		const jsonl, yamlFile = "fuzz.jsonl", "fuzz.yaml"
		checkTraceEvents(t, jsonl, data, func() (traceReader, error) {
			return &ordered{r: newJSONLReader(jsonl, bytes.NewReader(data), 4096)}, nil
		})
		checkTraceEvents(t, yamlFile, data, func() (traceReader, error) {
			r, err := parseYAMLTrace(yamlFile, data)
			if err != nil {
				return nil, err
			}
			return &ordered{r: r}, nil
		})
	})
}

func checkTraceEvents(t *testing.T, file string, data []byte, open func() (traceReader, error)) {
	t.Helper()
	r, err := open()
	if err != nil {
		checkLoadErrors(t, err, file, data)
		return
	}
	defer r.Close()
	lines := bytes.Count(data, []byte("\n")) + 1
	var last *Event
	for {
		ev, err := r.next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			checkLoadErrors(t, err, file, data)
			return
		}
		if ev.Source.File != file || ev.Source.Line < 1 || ev.Source.Line > lines || ev.At < 0 || (last != nil && ev.At < last.At) {
			t.Fatalf("event out of place: %+v after %+v", ev.Source, last)
		}
		switch ev.Op {
		case OpApply:
			if len(ev.Objects) == 0 {
				t.Fatal("apply without objects")
			}
		case OpScale:
			if !scalableKinds[ev.Target.Kind] || ev.Replicas < 0 {
				t.Fatalf("scale of %v to %d", ev.Target, ev.Replicas)
			}
		case OpPatch:
			if want := byte('{'); len(ev.Patch) == 0 || (ev.PatchType == types.JSONPatchType) != (ev.Patch[0] == '[') || (ev.PatchType != types.JSONPatchType && ev.Patch[0] != want) {
				t.Fatalf("patch %s of type %s", ev.Patch, ev.PatchType)
			}
		case OpDelete, OpEvict:
			if g := ev.GracePeriodSeconds; g != nil && *g < 0 {
				t.Fatalf("%s with grace period %d", ev.Op, *g)
			}
		case OpLoad:
			if !loadKinds[ev.Target.Kind] || (ev.CPU == nil && ev.Memory == nil) || (ev.CPU != nil && ev.CPU.Sign() < 0) || (ev.Memory != nil && ev.Memory.Sign() < 0) {
				t.Fatalf("load of %v: cpu %v, memory %v", ev.Target, ev.CPU, ev.Memory)
			}
		case OpCordon, OpUncordon, OpFail, OpRecover, OpDrain:
			if ev.Node == "" || (ev.Op == OpDrain) != (ev.Drain != nil) || (ev.Op == OpFail) != (ev.FailMode != "") {
				t.Fatalf("%s of node %q (%+v, mode %q)", ev.Op, ev.Node, ev.Drain, ev.FailMode)
			}
			last = ev
			continue
		default:
			t.Fatalf("operation %q", ev.Op)
		}
		if ev.Op != OpApply && (ev.Target.Kind == "" || ev.Target.Name == "") {
			t.Fatalf("target %+v", ev.Target)
		}
		last = ev
	}
}
