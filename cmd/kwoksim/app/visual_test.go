package app

import (
	"context"
	"html"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/kwoksim/kwoksim/version"
)

// --plots writes every figure as PNG and SVG into a directory it creates; --html writes one
// page; nothing else is left behind.
func TestPlotsAndHTMLFlags(t *testing.T) {
	dir := t.TempDir()
	plotsDir := filepath.Join(dir, "out", "plots")
	page := filepath.Join(dir, "report.html")
	code, _, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload, "--plots", plotsDir, "--html", page)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	entries, err := os.ReadDir(plotsDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"node-utilization.png", "node-utilization.svg", "pods.png", "pods.svg",
		"startup-latency.png", "startup-latency.svg", "utilization.png", "utilization.svg"}
	if !slices.Equal(names, want) {
		t.Errorf("plots directory holds %v, want %v", names, want)
	}
	f, err := os.Open(filepath.Join(plotsDir, "startup-latency.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := png.Decode(f); err != nil || img.Bounds().Dx() != 864 {
		t.Errorf("startup-latency.png: %v", err)
	}
	// The seed's ten pods start with no delay: the CDF counts all of them.
	svg, err := os.ReadFile(filepath.Join(plotsDir, "startup-latency.svg"))
	if err != nil || !strings.Contains(string(svg), "Startup latency CDF (10 pods)") {
		t.Errorf("startup-latency.svg does not count the 10 pods (%v)", err)
	}
	html, err := os.ReadFile(page)
	if err != nil || !strings.Contains(string(html), "kwok-node-0") || !strings.Contains(string(html), "pod-ready") {
		t.Errorf("the page does not show the node and the pod-ready transitions (%v)", err)
	}
	top, _ := os.ReadDir(dir)
	if len(top) != 2 {
		t.Errorf("%d entries next to the page, want the page and out/ (no temporary files)", len(top))
	}
}

// The page of a run says what was simulated (command line, seed, inputs, kwoksim build) and
// gives the table's hint: here the seed Deployment without its toleration.
func TestHTMLProvenanceAndHints(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(seedWorkload)
	if err != nil {
		t.Fatal(err)
	}
	noToleration := regexp.MustCompile(`(?s)\n      tolerations:.*?effect: "NoSchedule"`).ReplaceAll(data, nil)
	workload := filepath.Join(dir, "pod.yaml")
	if err := os.WriteFile(workload, noToleration, 0o644); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "report.html")
	code, table, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", workload, "--seed", "3", "--html", page)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	got := html.UnescapeString(string(b))
	v := version.Get()
	for _, want := range []string{
		"hint: the nodes carry taints kwok.x-k8s.io/node=fake:NoSchedule (1 node(s)); add a matching toleration to the pod template",
		`<td class="mono">kwoksim run --nodes ` + seedNodes + ` --workload ` + workload + ` --seed 3 --html ` + page + `</td>`,
		`<th class="row">seed</th><td class="mono">3</td>`,
		`<td class="mono">--nodes ` + seedNodes + `</td>`, `<td class="mono">--workload ` + workload + `</td>`,
		`<th class="row">kwoksim</th><td class="mono">` + v.Version,
		`<th class="row">Kubernetes</th><td class="mono">` + v.Kubernetes + `</td>`,
		`<th class="row">Go</th><td class="mono">` + v.Go + `</td>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if !strings.Contains(table, "hint: the nodes carry taints") {
		t.Errorf("the table has no hint:\n%s", table)
	}
}

// Paths that cannot be written are rejected before the run, naming the flag: exit 2, no file.
func TestVisualFlagsBadPaths(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"plots is a file", []string{"--plots", file}, "--plots " + file + ": expected a directory, found a file"},
		{"html in a missing directory", []string{"--html", filepath.Join(dir, "missing", "r.html")}, "directory " + filepath.Join(dir, "missing") + " does not exist"},
		{"html is a directory", []string{"--html", dir}, "--html " + dir + ": expected a file, found a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", "--nodes", seedNodes, "--workload", seedWorkload}, tc.args...)
			code, _, errOut := kwoksim(t, args...)
			if code != exitBadInput || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries in the directory, want only the file the test made", len(entries))
	}
}

// chromium returns the browser's path. Without one the test is skipped, with the reason,
// except in CI (CI=true), where a missing browser fails it.
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("chromium is not installed (%v); CI must install it (.ci/run does)", err)
	}
	t.Skipf("skipping: chromium is not installed (%v); apt-get install chromium to run this test", err)
	return ""
}

// browserProblems collects what the browser reports as wrong with a page: console errors,
// uncaught exceptions, and log entries at error level (a blocked or failed load). It is fed by
// chromedp.Listen, which sees an event before the command that follows it returns.
type browserProblems struct {
	mu   sync.Mutex
	list []string
}

func (b *browserProblems) listen(ev any) {
	var p string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value))
			}
			p = "console." + string(e.Type) + ": " + strings.Join(args, " ")
		}
	case *runtime.EventExceptionThrown:
		p = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			p += " " + e.ExceptionDetails.Exception.Description
		}
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError {
			p = "log: " + e.Entry.Text + " " + e.Entry.URL
		}
	}
	if p != "" {
		b.mu.Lock()
		b.list = append(b.list, p)
		b.mu.Unlock()
	}
}

func (b *browserProblems) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.list
	b.list = nil
	return out
}

// pageImages is what imagesScript reports about the images of a loaded page.
type pageImages struct {
	Images   int      `json:"images"`
	Rendered int      `json:"rendered"`
	Broken   []string `json:"broken"`
}

const imagesScript = `(() => {
	const imgs = [...document.images];
	const ok = i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0;
	return {images: imgs.length, rendered: imgs.filter(ok).length, broken: imgs.filter(i => !ok(i)).map(i => i.alt)};
})()`

// The page `kwoksim run --html` writes for the seed scenario opens in a real browser without a
// console error, an exception or a blocked load, and every plot renders. A probe page with a
// deliberate error and a missing image first shows that such problems are caught.
func TestHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	code, _, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload, "--html", page)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	probe := filepath.Join(dir, "probe.html")
	if err := os.WriteFile(probe, []byte(`<!DOCTYPE html><title>probe</title><img alt="missing" src="missing.png">`+
		`<script>console.error("probe error"); undefinedFunction();</script>`), 0o644); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	defer cancelCtx()
	// A bound on a browser that hangs, not a measurement: the page loads in well under a second.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var problems browserProblems
	if err := chromedp.Listen(ctx, problems.listen); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}

	load := func(path string) (pageImages, []string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path)); err != nil {
			t.Fatalf("loading %s in chromium: %v", path, err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[pageImages](imagesScript))
		if err != nil {
			t.Fatalf("inspecting %s: %v", path, err)
		}
		return got, problems.take()
	}

	got, found := load(probe)
	for _, kind := range []string{"console.error: ", "exception: ", "log: Failed to load resource"} {
		if !slices.ContainsFunc(found, func(p string) bool { return strings.HasPrefix(p, kind) }) {
			t.Errorf("the probe page's %q went unnoticed: problems %q", kind, found)
		}
	}
	if got.Images != 1 || got.Rendered != 0 {
		t.Errorf("the probe page's missing image counts as rendered: %+v", got)
	}
	if t.Failed() {
		t.FailNow()
	}

	got, found = load(page)
	if len(found) > 0 {
		t.Errorf("the browser reports problems with the page:\n%s", strings.Join(found, "\n"))
	}
	if got.Images != 4 || got.Rendered != 4 {
		t.Errorf("%d of %d images rendered (broken: %q), want the 4 plots", got.Rendered, got.Images, got.Broken)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#nodes + div").innerText`))
	if err != nil || !strings.Contains(text, "kwok-node-0") {
		t.Errorf("the rendered node table reads %q (%v)", text, err)
	}
}
