package app

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the outputs of README.md's console blocks that no longer match (review the diff before committing)")

// readmePath is the README whose examples TestREADMEExamples runs, from this package's directory.
const readmePath = "../../../README.md"

// TestREADMEExamples runs every ```console block of README.md, so that the README cannot
// drift from what kwoksim prints. The rules a block follows:
//
//   - Each line starting with "$ " is a command, continued on the next line while it ends
//     with a backslash. It must be a kwoksim command line: words, '…' and "…" quotes, and
//     the redirections >/dev/null and 2>/dev/null (nothing else of the shell). It runs in
//     process, as the golden tests run the command, in a fresh directory holding a symbolic
//     link to each entry of the repository root: the README's relative paths resolve as from
//     the root, and the files a command writes (--report a.json, --plots plots/) go to that
//     directory, which the block's later commands share and the test removes.
//   - The lines up to the next command are what it prints: standard error first, then
//     standard output, each unless the command discards it. Trailing spaces and trailing
//     blank lines are not compared.
//   - A line that is only "…" (indentation allowed) stands for any number of lines, none
//     included: the README shows part of a long output. An "…" inside a line is literal.
//   - Machine-dependent figures are masked on both sides (readmeMasks): wall times and
//     rates. A sweep's "kwoksim: [k/N] …" lines come in the order its runs finish, so each
//     run of them is compared sorted, k renumbered.
//   - A block whose command cannot run here (it needs files outside the repository, a
//     cluster, make) is preceded by the line <!-- readme-test: skip (REASON) --> and is
//     listed as skipped, with its reason (go test -v shows each).
//
// go test ./cmd/kwoksim/app -run TestREADMEExamples -update-readme rewrites the output of each
// block that does not match, and nothing else of the README: lines that still match stay as
// written, "…" lines stay where they are, changed and new lines are taken from the output
// (those an "…" covers stay covered), vanished lines go. Review the diff.
func TestREADMEExamples(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	blocks, err := parseREADMEBlocks(lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) == 0 {
		t.Fatal("README.md has no console blocks")
	}
	// A fresh directory that looks like the repository root.
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	rewritten := false
	for _, b := range blocks {
		name := fmt.Sprintf("line%d", b.line)
		if b.skip != "" {
			skipped = append(skipped, fmt.Sprintf("README.md:%d (%s)", b.line, b.skip))
			t.Run(name, func(t *testing.T) { t.Skipf("README.md:%d: marked skip: %s", b.line, b.skip) })
			continue
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, e := range entries {
				if err := os.Symlink(filepath.Join(root, e.Name()), filepath.Join(dir, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
			t.Chdir(dir)
			for i := range b.cmds {
				c := &b.cmds[i]
				var stdout, stderr bytes.Buffer
				execute(context.Background(), c.args[1:], &stdout, &stderr)
				var got []string
				if !c.noStderr {
					got = append(got, outputLines(stderr.String())...)
				}
				if !c.noStdout {
					got = append(got, outputLines(stdout.String())...)
				}
				got = trimBlank(got)
				if matchREADMEOutput(c.want, got) {
					continue
				}
				if *updateREADME {
					c.update = alignREADMEOutput(c.want, got)
					if !matchREADMEOutput(c.update, got) {
						t.Fatalf("README.md:%d: the rewritten output does not match (a bug of alignREADMEOutput):\n%s", c.line, strings.Join(c.update, "\n"))
					}
					rewritten = true
					continue
				}
				t.Errorf("README.md:%d: `%s` prints something else than the README shows (rerun with -update-readme and review the diff).\nREADME:\n%s\n\noutput:\n%s",
					c.line, c.text, strings.Join(c.want, "\n"), strings.Join(got, "\n"))
			}
		})
	}
	t.Logf("README.md: %d console blocks run, %d skipped", len(blocks)-len(skipped), len(skipped))
	for _, s := range skipped {
		t.Logf("  skipped: %s", s)
	}
	if rewritten {
		if err := writeREADME(readmePath, lines, blocks); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s: review the diff", readmePath)
	}
}

// readmeBlock is one ```console block of the README.
type readmeBlock struct {
	line int    // of the opening fence, 1-based
	skip string // the reason given by a skip marker
	cmds []readmeCommand
}

// readmeCommand is one command of a block and the output the README shows for it.
type readmeCommand struct {
	line               int // of the "$ " line, 1-based
	text               string
	args               []string
	noStdout, noStderr bool
	want               []string // the README's lines
	wantFrom, wantTo   int      // their index range in the README's lines
	update             []string // the rewritten lines, when -update-readme changes them
}

var (
	readmeSkipMarker = regexp.MustCompile(`^<!-- readme-test: skip \((.+)\) -->$`)
	readmeProgress   = regexp.MustCompile(`^kwoksim: \[\d+/(\d+)\] (.*)$`)
)

// readmeMasks replace the figures that depend on the machine and the moment, not on the
// inputs: wall times and rates of the wall clock.
var readmeMasks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d+(\.\d+)? events/s`), "N events/s"},
	{regexp.MustCompile(`"wallSeconds": ?[0-9.e+-]+`), `"wallSeconds": N`},
	{regexp.MustCompile(`\d+(\.\d+)?(ns|µs|ms|s|m|h)( of)? wall( time)?`), "D wall"},
	// kwoksim perf's throughput column (the table's last, so the others stay aligned).
	{regexp.MustCompile(`\d+ \(\d+/\d+/\d+\) pods/s`), "N (N/N/N) pods/s"},
	{regexp.MustCompile(`overall \d+ pods/s`), "overall N pods/s"},
}

// parseREADMEBlocks finds the console blocks of the README's lines and their commands.
func parseREADMEBlocks(lines []string) ([]readmeBlock, error) {
	var blocks []readmeBlock
	pendingSkip, skipLine := "", 0
	for i := 0; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], " \t\r")
		if m := readmeSkipMarker.FindStringSubmatch(l); m != nil {
			pendingSkip, skipLine = m[1], i+1
			continue
		}
		if !strings.HasPrefix(l, "```") {
			if pendingSkip != "" && l != "" {
				return nil, fmt.Errorf("README.md:%d: a skip marker must come right before a ```console block", skipLine)
			}
			continue
		}
		info := strings.TrimSpace(strings.TrimPrefix(l, "```"))
		end := i + 1
		for end < len(lines) && strings.TrimRight(lines[end], " \t\r") != "```" {
			end++
		}
		if end == len(lines) {
			return nil, fmt.Errorf("README.md:%d: the block is not closed", i+1)
		}
		if info != "console" {
			if pendingSkip != "" {
				return nil, fmt.Errorf("README.md:%d: a skip marker must come right before a ```console block", skipLine)
			}
			i = end
			continue
		}
		b := readmeBlock{line: i + 1, skip: pendingSkip}
		pendingSkip = ""
		for j := i + 1; j < end; {
			l := lines[j]
			if !strings.HasPrefix(l, "$ ") {
				return nil, fmt.Errorf("README.md:%d: a console block's output must follow a \"$ \" command line", j+1)
			}
			c := readmeCommand{line: j + 1}
			text := strings.TrimPrefix(l, "$ ")
			for strings.HasSuffix(text, `\`) && j+1 < end {
				j++
				text = strings.TrimSuffix(text, `\`) + " " + strings.TrimSpace(lines[j])
			}
			j++
			c.text = text
			c.wantFrom = j
			for j < end && !strings.HasPrefix(lines[j], "$ ") {
				j++
			}
			c.wantTo = j
			c.want = trimBlank(trimRight(lines[c.wantFrom:c.wantTo]))
			if b.skip == "" {
				args, noStdout, noStderr, err := splitCommand(text)
				if err != nil {
					return nil, fmt.Errorf("README.md:%d: %v; a block that cannot run in a test needs <!-- readme-test: skip (REASON) --> before it", c.line, err)
				}
				c.args, c.noStdout, c.noStderr = args, noStdout, noStderr
			}
			b.cmds = append(b.cmds, c)
		}
		if len(b.cmds) == 0 {
			return nil, fmt.Errorf("README.md:%d: a console block without a command", i+1)
		}
		blocks = append(blocks, b)
		i = end
	}
	if pendingSkip != "" {
		return nil, fmt.Errorf("README.md:%d: a skip marker must come right before a ```console block", skipLine)
	}
	return blocks, nil
}

// splitCommand splits a README command line into words as a POSIX shell would, for the
// little of the shell a kwoksim example uses: quotes, backslash escapes and output thrown
// away. Anything else of the shell is refused.
func splitCommand(s string) (args []string, noStdout, noStderr bool, err error) {
	var word strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			args = append(args, word.String())
			word.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case !inWord && (strings.HasPrefix(s[i:], ">/dev/null") || strings.HasPrefix(s[i:], "2>/dev/null")):
			n := len(">/dev/null")
			if c == '2' {
				n++
				noStderr = true
			} else {
				noStdout = true
			}
			if i+n < len(s) && s[i+n] != ' ' {
				return nil, false, false, fmt.Errorf("unsupported redirection in %q", s)
			}
			i += n - 1
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, false, false, fmt.Errorf("unclosed ' in %q", s)
			}
			word.WriteString(s[i+1 : i+1+end])
			inWord = true
			i += end + 1
		case c == '"':
			inWord = true
			for i++; ; i++ {
				if i == len(s) {
					return nil, false, false, fmt.Errorf(`unclosed " in %q`, s)
				}
				if s[i] == '"' {
					break
				}
				if s[i] == '$' || s[i] == '`' {
					return nil, false, false, fmt.Errorf("shell expansion in %q", s)
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0 {
					i++
				}
				word.WriteByte(s[i])
			}
		case c == '\\' && i+1 < len(s):
			i++
			word.WriteByte(s[i])
			inWord = true
		case strings.IndexByte("|&;<>()$`*?[]{}~", c) >= 0:
			return nil, false, false, fmt.Errorf("shell syntax %q in %q", string(c), s)
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	flush()
	if len(args) == 0 || args[0] != "kwoksim" {
		return nil, false, false, fmt.Errorf("not a kwoksim command: %q", s)
	}
	return args, noStdout, noStderr, nil
}

func outputLines(s string) []string {
	if s == "" {
		return nil
	}
	return trimRight(strings.Split(strings.TrimSuffix(s, "\n"), "\n"))
}

func trimRight(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimRight(l, " \t\r")
	}
	return out
}

func trimBlank(lines []string) []string {
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func isEllipsis(l string) bool { return strings.TrimSpace(l) == "…" }

// canonicalREADMELines puts each run of a sweep's progress lines in a canonical order, by
// what follows the counter, with the counters renumbered.
func canonicalREADMELines(lines []string) []string {
	out := append([]string(nil), lines...)
	for i := 0; i < len(out); {
		j := i
		for j < len(out) && readmeProgress.MatchString(out[j]) {
			j++
		}
		if j == i {
			i++
			continue
		}
		run := out[i:j]
		sort.SliceStable(run, func(a, b int) bool {
			return readmeProgress.FindStringSubmatch(run[a])[2] < readmeProgress.FindStringSubmatch(run[b])[2]
		})
		for k, l := range run {
			m := readmeProgress.FindStringSubmatch(l)
			run[k] = fmt.Sprintf("kwoksim: [%d/%s] %s", k+1, m[1], m[2])
		}
		i = j
	}
	return out
}

// maskREADMELines applies readmeMasks to each line.
func maskREADMELines(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		for _, m := range readmeMasks {
			l = m.re.ReplaceAllString(l, m.with)
		}
		out[i] = l
	}
	return out
}

// matchREADMEOutput reports whether the output got matches the README's lines want, "…"
// lines matching any run of lines.
func matchREADMEOutput(want, got []string) bool {
	w, g := maskREADMELines(canonicalREADMELines(want)), maskREADMELines(canonicalREADMELines(got))
	// ok[i][j]: w[i:] matches g[j:].
	ok := make([][]bool, len(w)+1)
	for i := range ok {
		ok[i] = make([]bool, len(g)+1)
	}
	ok[len(w)][len(g)] = true
	for i := len(w) - 1; i >= 0; i-- {
		for j := len(g); j >= 0; j-- {
			if isEllipsis(w[i]) {
				ok[i][j] = ok[i+1][j] || (j < len(g) && ok[i][j+1])
			} else {
				ok[i][j] = j < len(g) && w[i] == g[j] && ok[i+1][j+1]
			}
		}
	}
	return ok[0][0]
}

// The steps of an alignment of the README's lines with the output's, in the order ties
// are broken.
const (
	alignEqual    = iota // the README's line is the output's: kept as written
	alignGapEnd          // an "…" covers no more lines: kept
	alignGapCover        // an "…" covers the output's line
	alignReplace         // the README's line is replaced by the output's
	alignAdd             // the output's line is added
	alignDrop            // the README's line is dropped
	alignSteps
)

// sameLine reports whether a README line and an output line look like one line changed:
// their first words (a node's or a pod's name, "Pods:", a column header, a statistic's name)
// are equal or share at least half of the longer one as a prefix (kwok-node-0 and
// kwok-node-1, two pods of one ReplicaSet).
func sameLine(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	if len(fa) == 0 || len(fb) == 0 {
		return len(fa) == len(fb)
	}
	x, y := fa[0], fb[0]
	n := 0
	for n < len(x) && n < len(y) && x[n] == y[n] {
		n++
	}
	return x == y || (n > 0 && 2*n >= max(len(x), len(y)))
}

// alignStep is the cost of step k from (i, j) on top of what follows it, with where it
// leads; ok is false when the step is not possible there.
func alignStep(k int, w, g []string, i, j int, cost [][]int) (c, ni, nj int, ok bool) {
	inW, inG := i < len(w), j < len(g)
	gap := inW && isEllipsis(w[i])
	switch k {
	case alignEqual:
		if inW && inG && !gap && w[i] == g[j] {
			return cost[i+1][j+1], i + 1, j + 1, true
		}
	case alignGapEnd:
		if gap {
			return cost[i+1][j], i + 1, j, true
		}
	case alignGapCover:
		if gap && inG {
			return cost[i][j+1], i, j + 1, true
		}
	case alignReplace:
		if inW && inG && !gap {
			d := 3 // more than dropping the line and covering the output's with an "…"
			if sameLine(w[i], g[j]) {
				d = 1
			}
			return d + cost[i+1][j+1], i + 1, j + 1, true
		}
	case alignAdd:
		if inG && !gap {
			return 1 + cost[i][j+1], i, j + 1, true
		}
	case alignDrop:
		if inW && !gap {
			return 2 + cost[i+1][j], i + 1, j, true
		}
	}
	return 0, 0, 0, false
}

// alignREADMEOutput rewrites the README's lines want so that they match got, changing as
// little as it can: the cheapest alignment of want with got, where a line equal to the
// output's costs nothing, an "…" covers any lines for nothing, a line replaced by the
// output's costs 1 when they look like one line changed (sameLine; 3 otherwise), an output line added
// costs 1 and a README line dropped 2. Ties go to the first of: equal, "…" ends, "…"
// covers, replaced, added, dropped. Lines written are the README's where they match (a
// masked figure stays as written) and the output's elsewhere; every "…" stays.
func alignREADMEOutput(want, got []string) []string {
	wantC, gotC := canonicalREADMELines(want), canonicalREADMELines(got)
	w, g := maskREADMELines(wantC), maskREADMELines(gotC)
	cost := make([][]int, len(w)+1)
	for i := range cost {
		cost[i] = make([]int, len(g)+1)
	}
	for i := len(w); i >= 0; i-- {
		for j := len(g); j >= 0; j-- {
			if i == len(w) && j == len(g) {
				continue
			}
			best := -1
			for k := 0; k < alignSteps; k++ {
				if c, _, _, ok := alignStep(k, w, g, i, j, cost); ok && (best < 0 || c < best) {
					best = c
				}
			}
			cost[i][j] = best
		}
	}
	var out []string
	for i, j := 0, 0; i < len(w) || j < len(g); {
		for k := 0; k < alignSteps; k++ {
			c, ni, nj, ok := alignStep(k, w, g, i, j, cost)
			if !ok || c != cost[i][j] {
				continue
			}
			switch k {
			case alignEqual, alignGapEnd:
				out = append(out, wantC[i])
			case alignReplace, alignAdd:
				out = append(out, gotC[j])
			}
			i, j = ni, nj
			break
		}
	}
	return out
}

// writeREADME writes the README with the rewritten outputs of its commands, atomically.
func writeREADME(path string, lines []string, blocks []readmeBlock) error {
	var cmds []readmeCommand
	for _, b := range blocks {
		for _, c := range b.cmds {
			if c.update != nil {
				cmds = append(cmds, c)
			}
		}
	}
	var out []string
	next := 0
	for _, c := range cmds {
		out = append(out, lines[next:c.wantFrom]...)
		out = append(out, c.update...)
		// Keep the blank lines that separated this output from the next command.
		k := c.wantTo
		for k > c.wantFrom && strings.TrimSpace(lines[k-1]) == "" {
			k--
		}
		out = append(out, lines[k:c.wantTo]...)
		next = c.wantTo
	}
	out = append(out, lines[next:]...)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".README.md.*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(strings.Join(out, "\n")); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// The matching and rewriting rules of TestREADMEExamples, on small cases.
func TestREADMEOutputRules(t *testing.T) {
	for _, tc := range []struct {
		name      string
		want, got []string
		match     bool
		update    []string // nil: as got
	}{
		{"equal", []string{"a", "b"}, []string{"a", "b"}, true, nil},
		{"ellipsis covers lines", []string{"a", "…", "d"}, []string{"a", "b", "c", "d"}, true, nil},
		{"ellipsis covers none", []string{"a", "  …", "d"}, []string{"a", "d"}, true, nil},
		{"inline ellipsis is literal", []string{"a…"}, []string{"ab"}, false, []string{"ab"}},
		{"a changed line", []string{"Pods: 1", "x"}, []string{"Pods: 2", "x"}, false, nil},
		{"a changed line next to an ellipsis is replaced, not covered",
			[]string{"Pods: 1 total", "…"}, []string{"Pods: 2 total", "Nodes: 1", "cpu"}, false,
			[]string{"Pods: 2 total", "…"}},
		{"a changed line after an ellipsis is found by its first word",
			[]string{"…", "cpu 1%", "…"}, []string{"a", "b", "cpu 2%", "d"}, false,
			[]string{"…", "cpu 2%", "…"}},
		{"a new line between two shown lines is added",
			[]string{"Pods: 1", "NODE", "…"}, []string{"Pods: 1", "Workloads: 1", "NODE", "n0"}, false,
			[]string{"Pods: 1", "Workloads: 1", "NODE", "…"}},
		{"a changed line of a list next to an ellipsis is replaced",
			[]string{"POD", "default/api-5d4d8768db-278x6  node-092", "…"},
			[]string{"POD", "default/api-5d4d8768db-26g89  node-032", "default/api-5d4d8768db-285rr  node-155"}, false,
			[]string{"POD", "default/api-5d4d8768db-26g89  node-032", "…"}},
		{"a vanished line is dropped", []string{"a", "b", "c"}, []string{"a", "c"}, false, nil},
		{"trailing lines of the output are added", []string{"a"}, []string{"a", "b"}, false, nil},
		{"wall times and rates are masked",
			[]string{"simulating: t=1h, 24576 events, 1989 events/s", `"wallSeconds": 1.5,`},
			[]string{"simulating: t=1h, 24576 events, 7 events/s", `"wallSeconds": 0.25,`}, true, nil},
		{"progress lines in any order",
			[]string{"kwoksim: [1/2] combination 1 done", "kwoksim: [2/2] combination 0 done", "Sweep"},
			[]string{"kwoksim: [1/2] combination 0 done", "kwoksim: [2/2] combination 1 done", "Sweep"}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := matchREADMEOutput(tc.want, tc.got); got != tc.match {
				t.Fatalf("match = %v, want %v", got, tc.match)
			}
			if tc.match {
				return
			}
			want := tc.update
			if want == nil {
				want = tc.got
			}
			up := alignREADMEOutput(tc.want, tc.got)
			if strings.Join(up, "\n") != strings.Join(want, "\n") {
				t.Errorf("rewritten as %q, want %q", up, want)
			}
			if !matchREADMEOutput(up, tc.got) {
				t.Errorf("the rewritten lines %q do not match the output", up)
			}
		})
	}
	for _, tc := range []struct {
		cmd                string
		args               []string
		noStdout, noStderr bool
	}{
		{`kwoksim run --assert 'a == "b"' --x "c d" >/dev/null`, []string{"kwoksim", "run", "--assert", `a == "b"`, "--x", "c d"}, true, false},
		{`kwoksim plan x 2>/dev/null`, []string{"kwoksim", "plan", "x"}, false, true},
	} {
		args, o, e, err := splitCommand(tc.cmd)
		if err != nil || strings.Join(args, "|") != strings.Join(tc.args, "|") || o != tc.noStdout || e != tc.noStderr {
			t.Errorf("splitCommand(%s) = %q %v %v %v", tc.cmd, args, o, e, err)
		}
	}
	for _, bad := range []string{"make openb", "kwoksim run | head", "kwoksim run --nodes nodes/*.yaml", "kwoksim run > out.txt", `kwoksim run "$HOME"`} {
		if _, _, _, err := splitCommand(bad); err == nil {
			t.Errorf("splitCommand(%s) accepted", bad)
		}
	}
}

// Every flag of kwoksim run is in the README's table of run's flags, and the table names
// no flag run does not have.
func TestREADMERunFlags(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	start := strings.Index(s, "\n## `kwoksim run`\n")
	if start < 0 {
		t.Fatal("README.md has no section ## `kwoksim run`")
	}
	s = s[start+1:]
	if end := strings.Index(s[1:], "\n## "); end >= 0 {
		s = s[:end+1]
	}
	inTable := map[string]bool{}
	flagName := regexp.MustCompile("`(--?[a-z][a-z-]*)`")
	tableSeen := false
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "|") {
			if tableSeen {
				break // the first table only
			}
			continue
		}
		tableSeen = true
		cells := strings.Split(l, "|")
		for _, m := range flagName.FindAllStringSubmatch(cells[1], -1) {
			inTable[m[1]] = true
		}
	}
	var run *cobra.Command
	for _, c := range newRootCommand(nil).Commands() {
		if c.Name() == "run" {
			run = c
		}
	}
	if run == nil {
		t.Fatal("no run command")
	}
	have := map[string]bool{}
	// The root's persistent flags (--log-level) apply to run too and may be in its table.
	run.InheritedFlags().VisitAll(func(f *pflag.Flag) { have["--"+f.Name] = true })
	run.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" || f.Hidden {
			return
		}
		have["--"+f.Name] = true
		if f.Shorthand != "" {
			have["-"+f.Shorthand] = true
		}
		if !inTable["--"+f.Name] && (f.Shorthand == "" || !inTable["-"+f.Shorthand]) {
			t.Errorf("kwoksim run --%s is not in README.md's table of run's flags", f.Name)
		}
	})
	names := make([]string, 0, len(inTable))
	for n := range inTable {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !have[n] {
			t.Errorf("README.md's table of run's flags has %s, which kwoksim run does not have", n)
		}
	}
}
