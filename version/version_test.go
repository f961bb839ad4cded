package version

import (
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVCSRevision(t *testing.T) {
	for _, tc := range []struct {
		settings []debug.BuildSetting
		want     string
	}{
		{nil, ""},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}}, "abc"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}, "abc-dirty"},
		{[]debug.BuildSetting{{Key: "vcs.modified", Value: "true"}}, ""},
	} {
		if got := vcsRevision(tc.settings); got != tc.want {
			t.Errorf("vcsRevision(%v) = %q, want %q", tc.settings, got, tc.want)
		}
	}
}

// TestGetStamped: -X stamping wins over what the toolchain recorded.
func TestGetStamped(t *testing.T) {
	defer func(v, c string) { version, commit = v, c }(version, commit)
	version, commit = "v9.9.9", "feedbeef"
	got := Get()
	if got.Version != "v9.9.9" || got.Commit != "feedbeef" {
		t.Errorf("Get() = %+v, want the stamped version and commit", got)
	}
	if !strings.HasPrefix(got.Go, "go") {
		t.Errorf("Go = %q, want the toolchain's version", got.Go)
	}
}

// TestMakefileStamps: `make build` and `make dist` stamp this package's version and commit
// (the variables TestGetStamped sets, by their import path), from git describe and rev-parse,
// or "dev" and nothing outside a git checkout.
func TestMakefileStamps(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	const pkg = "github.com/kwoksim/kwoksim/version"
	dryRun := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command("make", append([]string{"-n", "-C", ".."}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	stamp := "-X " + pkg + ".version=v9.9.9 -X " + pkg + ".commit=feedbeef"
	for _, target := range []string{"build", "dist"} {
		if out := dryRun(nil, target, "VERSION=v9.9.9", "COMMIT=feedbeef"); !strings.Contains(out, stamp) {
			t.Errorf("make %s does not stamp the version:\n%s", target, out)
		}
	}
	if out := dryRun(nil, "image", "VERSION=v9.9.9", "COMMIT=feedbeef"); !strings.Contains(out, "--build-arg VERSION=v9.9.9 --build-arg COMMIT=feedbeef -t kwoksim:v9.9.9 ") {
		t.Errorf("make image does not pass the version, or tags the image otherwise:\n%s", out)
	}
	dockerfile, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), "-X "+pkg+".version=${VERSION} -X "+pkg+".commit=${COMMIT}") {
		t.Errorf("the Dockerfile does not stamp VERSION and COMMIT into %s", pkg)
	}
	if out := dryRun(nil, "dist", "VERSION=v9.9.9"); !strings.Contains(out, "-trimpath") || !strings.Contains(out, `-ldflags "-s -w `) || !strings.Contains(out, "CGO_ENABLED=0") {
		t.Errorf("make dist does not build static, stripped binaries:\n%s", out)
	}
	// Outside a git checkout (GIT_DIR pointing nowhere): "dev", no commit.
	if out := dryRun([]string{"GIT_DIR=" + t.TempDir()}, "build"); !strings.Contains(out, "-X "+pkg+".version=dev -X "+pkg+".commit=\"") {
		t.Errorf("make build outside git should stamp dev:\n%s", out)
	}
}
