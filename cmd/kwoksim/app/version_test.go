package app

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/version"
)

// `kwoksim version` and `kwoksim --version` print the same four lines from version.Get();
// -o json is version.Info itself.
func TestVersionCommand(t *testing.T) {
	want := versionText(version.Get(), nil)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := kwoksim(t, args...)
		if code != exitOK || out != want || errOut != "" {
			t.Errorf("kwoksim %s: exit %d, stdout %q, stderr %q; want %q", strings.Join(args, " "), code, out, errOut, want)
		}
	}
	code, out, errOut := kwoksim(t, "version", "-o", "json")
	var info version.Info
	if code != exitOK || json.Unmarshal([]byte(out), &info) != nil {
		t.Fatalf("kwoksim version -o json: exit %d: %s%s", code, out, errOut)
	}
	// Since the command moved out of package main, this test binary is a library package's:
	// Go records module dependencies in the build info of main packages only, so here the
	// Kubernetes version can only be checked when the build info has them.
	bi, _ := debug.ReadBuildInfo()
	wantKubernetes := bi != nil && len(bi.Deps) > 0
	if info != version.Get() || info.Version == "" || (wantKubernetes && !strings.HasPrefix(info.Kubernetes, "v1.")) || !strings.HasPrefix(info.Go, "go") {
		t.Errorf("kwoksim version -o json = %+v, want %+v with the Kubernetes module's version", info, version.Get())
	}
	if code, _, errOut := kwoksim(t, "version", "-o", "yaml"); code != exitBadInput || !strings.Contains(errOut, "--output must be text or json") {
		t.Errorf("kwoksim version -o yaml: exit %d, %s", code, errOut)
	}
}

func TestVersionText(t *testing.T) {
	got := versionText(version.Info{Version: "v0.3.0", Commit: "0123abc", Kubernetes: "v1.37.2", Go: "go1.26.8"}, nil)
	want := "kwoksim    v0.3.0\ncommit     0123abc\nkubernetes v1.37.2\ngo         go1.26.8\n"
	if got != want {
		t.Errorf("versionText = %q, want %q", got, want)
	}
	if got := versionText(version.Info{Version: "dev", Kubernetes: "v1.37.2", Go: "go1.26.8"}, nil); !strings.Contains(got, "commit     unknown\n") {
		t.Errorf("an unknown commit: %q", got)
	}
}
