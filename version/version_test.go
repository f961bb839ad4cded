package version

import (
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
