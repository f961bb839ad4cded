package app

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/sim"
)

// files is a fake file system for the memory limit's derivation.
func files(m map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if s, ok := m[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
}

const meminfo = "MemTotal:       16384000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n"

// The default is 75% of the memory the process may use: its cgroup's limit when set and
// lower, else MemTotal; a fixed value where neither can be read.
func TestDefaultMaxMemory(t *testing.T) {
	const total = 16384000 * 1024
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  int64
		from  string
	}{
		{"MemTotal alone", map[string]string{"/proc/meminfo": meminfo}, total / 100 * 75, "MemTotal, /proc/meminfo"},
		{"cgroup v2 of the process", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "0::/kubepods/pod1/c1\n",
			"/sys/fs/cgroup/kubepods/pod1/c1/memory.max": "4294967296\n"}, 3 << 30, "/sys/fs/cgroup/kubepods/pod1/c1/memory.max"},
		{"cgroup v2 at the root (a container's namespace)", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "0::/\n",
			"/sys/fs/cgroup/memory.max": "8589934592\n"}, 6 << 30, "/sys/fs/cgroup/memory.max"},
		{"cgroup v2 max: no limit", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "0::/\n",
			"/sys/fs/cgroup/memory.max": "max\n"}, total / 100 * 75, "MemTotal"},
		{"cgroup v1", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "5:cpuset:/\n4:memory:/docker/abc\n0::/\n",
			"/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "2147483648\n"}, 3 << 29, "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes"},
		{"cgroup v1 unlimited", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "4:memory:/process_api/x\n",
			"/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, total / 100 * 75, "MemTotal"},
		{"a cgroup limit above the machine's memory", map[string]string{"/proc/meminfo": meminfo,
			"/sys/fs/cgroup/memory.max": "1099511627776\n"}, total / 100 * 75, "MemTotal"},
		{"a cgroup limit and no /proc/meminfo", map[string]string{"/sys/fs/cgroup/memory.max": "1073741824"}, 3 << 28, "cgroup"},
		{"a cgroup file that is not a number", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "lots\n"}, total / 100 * 75, "MemTotal"},
		{"nothing readable", nil, fallbackMaxMemory, "a fixed 8 GiB: the memory of this machine could not be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, note := defaultMaxMemory(files(tc.files))
			if got != tc.want || !strings.Contains(note, tc.from) || !strings.HasPrefix(note, "the default, ") {
				t.Errorf("%d (%s), want %d from %s", got, note, tc.want, tc.from)
			}
		})
	}
}

func TestMemoryFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{"6Gi", 6 << 30, ""}, {"512Mi", 512 << 20, ""}, {"8G", 8e9, ""}, {"1e9", 1e9, ""}, {"0", 0, ""}, {"1048576", 1 << 20, ""},
		{"100Ei", 1 << 62, ""},
		{"-1Gi", 0, "not negative"}, {"lots", 0, "expected a size in bytes"}, {"", 0, "expected a size in bytes"},
	} {
		var m memoryFlag
		err := m.Set(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one saying %q", tc.in, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err == "" && m.bytes != tc.want:
			t.Errorf("%q: %d bytes, want %d", tc.in, m.bytes, tc.want)
		}
	}
	var m memoryFlag
	if err := m.Set("6Gi"); err != nil {
		t.Fatal(err)
	}
	if limit, note := m.limit(3); limit != 6<<30 || note != "--max-memory 6Gi" {
		t.Errorf("limit %d (%s)", limit, note)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 8 << 10: "8 KiB", 1536: "1.5 KiB", 6 << 30: "6 GiB", 25275166720: "23.54 GiB"} {
		if got := sim.FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// The memory limit reads memory and never feeds the simulation: the same run with it off
// and with it on (and checked) gives the same report.
func TestMaxMemoryDoesNotChangeTheRun(t *testing.T) {
	args := []string{"run", "--nodes", seedNodes, "--workload", seedWorkload, "--until", "10m", "-o", "json"}
	code, off, errOut := kwoksim(t, append(args, "--max-memory", "0")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	code, on, errOut := kwoksim(t, append(args, "--max-memory", "64Gi")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	sameRun(t, on, off)
}

// A plan or sweep with runs going at once gives each its share of the default limit; a limit
// the user gave is passed on as given.
func TestMemoryShare(t *testing.T) {
	if got := memoryShareArgs(false, 3); len(got) != 1 || got[0] != "--memory-share=3" {
		t.Errorf("args %q", got)
	}
	if got := memoryShareArgs(true, 3); got != nil {
		t.Errorf("args %q with --max-memory given, want none", got)
	}
	if got := memoryShareArgs(false, 1); got != nil {
		t.Errorf("args %q for one run at a time, want none", got)
	}
	var m memoryFlag
	whole, _ := m.limit(1)
	half, note := m.limit(2)
	if half != whole/2 || !strings.Contains(note, "shared by 2 runs at once: "+sim.FormatBytes(half)+" each") {
		t.Errorf("%d (%s), want %d", half, note, whole/2)
	}
	code, _, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--memory-share", "0")
	if code != exitBadInput || !strings.Contains(errOut, "--memory-share must be at least 1, got 0") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
