package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/analysis"
)

// kwoksimStdin is kwoksim with stdin as the command's standard input.
func kwoksimStdin(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := executeIO(context.Background(), args, stdin, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// sameRun checks that a run's JSON report is the one of the same run from files, but for
// the runtime and provenance sections (the command lines differ).
func sameRun(t *testing.T, out, want string) {
	t.Helper()
	norm := func(s string) string {
		r := decodeReport(t, s)
		r.Runtime, r.Provenance = analysis.Runtime{}, nil
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if norm(out) != norm(want) {
		t.Errorf("the report differs from the run reading files:\n%s\nwant:\n%s", out, want)
	}
}

func readFile(t *testing.T, path string) *bytes.Reader {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(data)
}

// "-" reads standard input, for --nodes, --workload and --stages, and gives the same report as
// the file.
func TestStdinInputs(t *testing.T) {
	stagesArgs := []string{"--stages", kwokStages + "node/fast", "--stages", kwokStages + "pod/general/pod-ready.yaml"}
	base := append([]string{"run", "-o", "json", "--nodes", seedNodes, "--workload", seedWorkload}, stagesArgs...)
	code, want, errOut := kwoksim(t, base...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, tc := range []struct {
		name string
		file string // piped to standard input
		args []string
	}{
		{"--nodes -", seedNodes, append([]string{"run", "-o", "json", "--nodes", "-", "--workload", seedWorkload}, stagesArgs...)},
		{"--workload -", seedWorkload, append([]string{"run", "-o", "json", "--nodes", seedNodes, "--workload", "-"}, stagesArgs...)},
		{"--stages -", kwokStages + "pod/general/pod-ready.yaml",
			[]string{"run", "-o", "json", "--nodes", seedNodes, "--workload", seedWorkload, "--stages", kwokStages + "node/fast", "--stages", "-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := kwoksimStdin(t, readFile(t, tc.file), tc.args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			sameRun(t, out, want)
		})
	}
}

// Standard input read twice, or by a command that would need it more than once, is refused
// before anything is read, naming the flags.
func TestStdinRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"given twice", []string{"run", "--nodes", "-", "--workload", "-"},
			"standard input (-) is given 2 times (--nodes, --workload) but can be read only once; give the other inputs as files"},
		{"a trace", []string{"run", "--nodes", seedNodes, "--trace", "-"},
			"--trace -: a trace cannot be read from standard input: it is read twice, checked whole before the run and replayed during it; give a file"},
		{"a plan", []string{"plan", "--node-template", seedNodes, "--workload", "-"},
			"--workload -: standard input cannot be an input of a plan, whose runs each read their inputs; give a file"},
		{"stages explain", []string{"stages", "explain", "--stages", "-", "-"},
			"standard input (-) is given 2 times (--stages, OBJECT.yaml)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdin := readFile(t, seedNodes)
			code, out, errOut := kwoksimStdin(t, stdin, tc.args...)
			if code != exitBadInput || out != "" || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out, errOut, tc.want)
			}
			if stdin.Len() == 0 {
				t.Error("standard input was read")
			}
		})
	}
}

// A stage file linked into a --stages directory is read like the file itself (it used to be
// skipped, leaving the directory without stages); a link to nothing is an error naming it.
func TestStagesSymlinks(t *testing.T) {
	dir := t.TempDir()
	target, err := filepath.Abs(kwokStages + "node/fast/node-initialize.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "node-initialize.yaml")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := kwoksim(t, "run", "-o", "json", "--nodes", seedNodes, "--stages", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if len(r.Transitions) != 1 || r.Transitions[0].Stage != "node-initialize" || r.Summary.Nodes.Ready != 1 {
		t.Errorf("transitions %+v, nodes %+v: want the linked node-initialize stage to run", r.Transitions, r.Summary.Nodes)
	}

	if err := os.Symlink("gone.yaml", filepath.Join(dir, "pod-ready.yaml")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = kwoksim(t, "run", "--nodes", seedNodes, "--stages", dir)
	want := filepath.Join(dir, "pod-ready.yaml") + ": symbolic link to gone.yaml, which does not exist"
	if code != exitBadInput || out != "" || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, want)
	}
}
