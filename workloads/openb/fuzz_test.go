package openb

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/trace"
)

// FuzzConvert holds the importer to its contract with CSV files of any shape: no panic,
// every problem an *Error naming the file and a line inside it, and any output it does
// write loadable by the simulator (nodes.yaml by the manifest loader, trace.jsonl by the
// trace checker). Seeds: the fixture, each of its lines alone under its header, and the
// golden lines of the real trace's format.
func FuzzConvert(f *testing.F) {
	nodes, pods := readFixture(f, "../../testdata/openb/nodes.csv"), readFixture(f, "../../testdata/openb/pods.csv")
	f.Add(nodes, pods)
	nodeLines, podLines := splitLines(nodes), splitLines(pods)
	for i := 1; i < max(len(nodeLines), len(podLines)); i++ {
		f.Add(pick(nodeLines, i), pick(podLines, i))
	}
	f.Fuzz(func(t *testing.T, nodesCSV, podsCSV []byte) {
		for _, mode := range GPUModes {
			checkConvert(t, nodesCSV, podsCSV, Options{GPU: mode})
		}
	})
}

// checkConvert checks one conversion in one mode. With GPUDRA the trace also holds the setup
// objects (the DeviceClass and the claim templates), which the trace checker decodes with
// the client-go scheme like any apply; the nodes' devices annotations are checked by the
// manifest loader (workloads/devices).
func checkConvert(t *testing.T, nodesCSV, podsCSV []byte, opts Options) {
	const nodesFile, podsFile = "nodes.csv", "pods.csv"
	out, err := Convert(bytes.NewReader(nodesCSV), nodesFile, bytes.NewReader(podsCSV), podsFile, opts)
	if err != nil {
		checkImportErrors(t, err, map[string]int{nodesFile: lineCount(nodesCSV), podsFile: lineCount(podsCSV)})
		return
	}
	dir := t.TempDir()
	nodesYAML, traceFile := filepath.Join(dir, "nodes.yaml"), filepath.Join(dir, "trace.jsonl")
	if err := os.WriteFile(nodesYAML, out.Nodes, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(traceFile, out.Trace, 0o644); err != nil {
		t.Fatal(err)
	}
	if out.Summary.Nodes > 0 {
		objs, err := manifest.Load([]string{nodesYAML}, manifest.LoadOptions{Kinds: map[string]bool{"Node": true}})
		if err != nil || len(objs) != out.Summary.Nodes {
			t.Fatalf("%s: nodes.yaml of %d nodes loads as %d objects: %v\n%s", opts.GPU, out.Summary.Nodes, len(objs), err, out.Nodes)
		}
	}
	sum, err := trace.Check(traceFile, 0)
	if want := out.Summary.Events + out.Summary.Setup; err != nil || sum.Events != want {
		t.Fatalf("%s: trace.jsonl of %d events checks as %d: %v\n%s", opts.GPU, want, sum.Events, err, out.Trace)
	}
}

func readFixture(f *testing.F, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return data
}

func splitLines(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// pick is the header and line i of a file (the header alone past its end).
func pick(lines []string, i int) []byte {
	if i < len(lines) {
		return []byte(lines[0] + "\n" + lines[i] + "\n")
	}
	return []byte(lines[0] + "\n")
}

func lineCount(data []byte) int { return bytes.Count(data, []byte("\n")) + 1 }

// checkImportErrors checks that err is an *Error, or a join of them (with at most a final
// "... and N more problems"), each naming one of the files and a line inside it.
func checkImportErrors(t *testing.T, err error, lines map[string]int) {
	t.Helper()
	errs := flatten(err)
	for i, e := range errs {
		var ie *Error
		if !errors.As(e, &ie) {
			if i == len(errs)-1 && strings.HasPrefix(e.Error(), "... and ") {
				continue
			}
			t.Fatalf("error %T is not an *openb.Error: %v", e, e)
		}
		n, ok := lines[ie.File]
		if !ok || ie.Line < 0 || ie.Line > n || ie.Msg == "" || !strings.HasPrefix(ie.Error(), ie.File+":") {
			t.Fatalf("error does not name a file and a line in it: %+v", ie)
		}
	}
}

// flatten lists the errors inside nested errors.Join.
func flatten(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}
