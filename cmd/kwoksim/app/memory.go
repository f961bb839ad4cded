package app

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime/debug"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// The memory limit (--max-memory) protects the machine: the object limit counts objects,
// but what exhausts a machine is bytes, and how many bytes an object costs depends on the
// object. Its default is derived from the memory the process may use.

// defaultMemoryPercent is the share of the memory available to the process that a run may
// use by default: the rest is for the operating system and whatever else runs beside it.
const defaultMemoryPercent = 75

// fallbackMaxMemory is the default where the machine's memory cannot be read (no
// /proc/meminfo: macOS, Windows).
const fallbackMaxMemory = 8 << 30

// declaredObjectBytes is the least memory an object of a run is counted as needing in the
// up-front estimate: a pod with its copies in the apiserver's store, the informers, the
// scheduler's cache and the recorder was measured at 7–9 KiB of live heap (10,000 pods on
// 100 nodes). The estimate errs low, so that it refuses only inputs that cannot fit; the
// limit itself, checked while the run goes, catches the rest.
const declaredObjectBytes = 8 << 10

// memoryFlag is --max-memory: bytes with an optional unit (6Gi, 512Mi, 8G, 1e9), 0 for none.
// Unset, the default is derived from the machine (defaultMaxMemory).
type memoryFlag struct {
	bytes int64
	text  string // as given; "" when unset
}

func (m *memoryFlag) String() string { return m.text }

func (m *memoryFlag) Type() string { return "bytes" }

func (m *memoryFlag) Set(s string) error {
	q, err := resource.ParseQuantity(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("expected a size in bytes such as 6Gi, 512Mi or 8G (0: no limit), got %q", s)
	}
	if q.Sign() < 0 {
		return fmt.Errorf("expected a size that is not negative (0: no limit), got %q", s)
	}
	n, ok := q.AsInt64()
	if !ok {
		if q.Cmp(*resource.NewQuantity(1<<62, resource.BinarySI)) > 0 {
			n = 1 << 62
		} else {
			n = q.Value() // a fraction of a byte, rounded up
		}
	}
	m.bytes, m.text = n, s
	return nil
}

// memoryShareFlag is the hidden flag by which a plan or sweep tells each of the runs it has
// going at once to take only its share of the default memory limit.
const memoryShareFlag = "--memory-share"

// memoryShareArgs are the arguments that give each of parallel runs at once its share of the
// default memory limit; none when the user set --max-memory (forwarded as given) or the runs
// go one at a time.
func memoryShareArgs(maxMemorySet bool, parallel int) []string {
	if maxMemorySet || parallel <= 1 {
		return nil
	}
	return []string{fmt.Sprintf("%s=%d", memoryShareFlag, parallel)}
}

// limit is the memory limit in bytes (0: none) and what the message of a run that passes it
// says of it. share divides the default (runs of a plan or sweep going at once).
func (m *memoryFlag) limit(share int) (int64, string) {
	if m.text != "" {
		return m.bytes, sim.MaxMemoryFlag + " " + m.text
	}
	limit, note := defaultMaxMemory(os.ReadFile)
	if share > 1 {
		limit /= int64(share)
		note = fmt.Sprintf("%s, shared by %d runs at once: %s each", note, share, sim.FormatBytes(limit))
	}
	return limit, note
}

// defaultMaxMemory is defaultMemoryPercent of the memory available to the process, with
// where that figure comes from.
func defaultMaxMemory(read func(string) ([]byte, error)) (int64, string) {
	total, from, ok := machineMemory(read)
	if !ok {
		return fallbackMaxMemory, fmt.Sprintf("the default, a fixed %s: the memory of this machine could not be read", sim.FormatBytes(fallbackMaxMemory))
	}
	share := total/100*defaultMemoryPercent + total%100*defaultMemoryPercent/100 // without overflow
	return share, fmt.Sprintf("the default, %d%% of the %s %s", defaultMemoryPercent, sim.FormatBytes(total), from)
}

// noCgroupLimit: a cgroup v1 limit this large is no limit (v1 writes "unlimited" as the
// largest multiple of the page size, 9223372036854771712).
const noCgroupLimit = 1 << 60

// machineMemory is the memory the process may use: its cgroup's limit (v2 memory.max, v1
// memory.limit_in_bytes) when one is set and below the machine's, else the machine's
// MemTotal from /proc/meminfo. ok is false when neither can be read.
func machineMemory(read func(string) ([]byte, error)) (total int64, from string, ok bool) {
	if data, err := read("/proc/meminfo"); err == nil {
		if kb, found := memTotal(data); found {
			total, from, ok = kb*1024, "this machine has (MemTotal, /proc/meminfo)", true
		}
	}
	if limit, file, found := cgroupLimit(read); found && (!ok || limit < total) {
		total, from, ok = limit, "the process's cgroup may use ("+file+")", true
	}
	return total, from, ok
}

// memTotal reads MemTotal (in kB) from /proc/meminfo.
func memTotal(data []byte) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, found := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !found {
			continue
		}
		rest = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB"))
		kb, err := strconv.ParseInt(rest, 10, 64)
		return kb, err == nil && kb > 0
	}
	return 0, false
}

// cgroupLimit is the memory limit of the process's cgroup, v2 or v1, read from its own
// directory when /proc/self/cgroup names one that is mounted, else from the root of the
// hierarchy (a container sees its own cgroup there). found is false when there is none
// ("max", or v1's near-infinite value) or it cannot be read.
func cgroupLimit(read func(string) ([]byte, error)) (limit int64, file string, found bool) {
	var candidates []string
	if data, err := read("/proc/self/cgroup"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			// hierarchy-ID:controller-list:cgroup-path
			parts := strings.SplitN(sc.Text(), ":", 3)
			if len(parts) != 3 || parts[2] == "/" {
				continue
			}
			switch {
			case parts[0] == "0" && parts[1] == "":
				candidates = append(candidates, path.Join("/sys/fs/cgroup", parts[2], "memory.max"))
			case hasController(parts[1], "memory"):
				candidates = append(candidates, path.Join("/sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes"))
			}
		}
	}
	candidates = append(candidates, "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
	for _, f := range candidates {
		data, err := read(f)
		if err != nil {
			continue
		}
		n, err := parseCgroupLimit(data)
		if err != nil {
			continue
		}
		if n <= 0 {
			return 0, "", false // no limit here; the first file read decides
		}
		return n, f, true
	}
	return 0, "", false
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// parseCgroupLimit reads memory.max or memory.limit_in_bytes: bytes, or "max" for none
// (returned as 0, as is v1's near-infinite value).
func parseCgroupLimit(data []byte) (int64, error) {
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a cgroup memory limit: %q", s)
	}
	if n >= noCgroupLimit {
		return 0, nil
	}
	if n == 0 {
		return 0, errors.New("a cgroup memory limit of 0")
	}
	return int64(n), nil
}

// softMemoryLimit makes the garbage collector work harder as the heap nears the limit, so
// that a run that fits is not stopped for garbage not yet collected: the Go runtime's own
// memory limit is set to 90% of it (unless GOMEMLIMIT is set). It returns the function
// that restores the previous setting.
func softMemoryLimit(limit int64) (restore func()) {
	if limit <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(limit / 10 * 9)
	return func() { debug.SetMemoryLimit(prev) }
}

// checkDeclared refuses, before the run, inputs that declare more objects than the object
// limit or than the memory limit can hold at declaredObjectBytes each: exit 3, naming the
// largest workload and the flag to raise.
func checkDeclared(d manifest.Declared, maxObjects int, maxMemory int64, memoryNote string) error {
	largest := ""
	if s := d.LargestText(); s != "" {
		largest = "; the largest workload is " + s
	}
	if d.Objects > int64(maxObjects) {
		return &sim.Failure{Msg: fmt.Sprintf("object limit: the inputs declare at least %d objects (those given and the pods their controllers create), "+
			"more than the limit of %d objects%s. Raise the limit with %s, or make the workload smaller",
			d.Objects, maxObjects, largest, sim.MaxObjectsFlag)}
	}
	if maxMemory > 0 && d.Objects > maxMemory/declaredObjectBytes {
		return &sim.Failure{Msg: fmt.Sprintf("memory limit: the inputs declare at least %d objects (those given and the pods their controllers create), "+
			"which need at least %s at %s each, more than the memory limit of %s (%s)%s. "+
			"Raise the limit with %s (0 turns it off), or make the workload smaller",
			d.Objects, sim.FormatBytes(d.Objects*declaredObjectBytes), sim.FormatBytes(declaredObjectBytes), sim.FormatBytes(maxMemory), memoryNote,
			largest, sim.MaxMemoryFlag)}
	}
	return nil
}
