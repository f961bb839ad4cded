package realcluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kwoksim/kwoksim/fidelity"
)

// Binaries are the files build.sh leaves in WORK/bin; a cluster needs all of them.
var Binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok", "kwokctl"}

// Versions are the components' versions as build.sh pins them (its `go get …@version` lines).
// The binaries are built from the module proxy without version ldflags, so they cannot tell
// their own; these are what they were built from.
var Versions = map[string]string{
	"etcd":                    "v3.7.3",
	"kube-apiserver":          "v1.37.2",
	"kube-controller-manager": "v1.37.2",
	"kube-scheduler":          "v1.37.2",
	"kubectl":                 "v1.37.2",
	"kwok":                    "v0.8.0",
}

// kwokctlKCMFlags are the kube-controller-manager flags kwokctl v0.8.0 passes itself
// (pkg/kwokctl/components/kube_controller_manager.go, BuildKubeControllerManagerComponent,
// with kwokctl's defaults for --kube-controller-manager-node-monitor-period-seconds and
// …-grace-period-seconds); a scenario's other flags go in through a KwokctlConfiguration's
// componentsPatches.
var kwokctlKCMFlags = map[string]string{
	"node-monitor-period":       "25s",
	"node-monitor-grace-period": "3m20s",
}

// cluster is one running KWOK cluster of kwokctl's binary runtime.
type cluster struct {
	work       string // the realcluster work dir (WORK/bin holds the binaries)
	name       string
	kubeconfig string
	log        io.Writer
}

func (c *cluster) bin(name string) string { return filepath.Join(c.work, "bin", name) }

// kwokWorkdir is KWOK_WORKDIR: kwokctl keeps each cluster under clusters/NAME there.
func (c *cluster) kwokWorkdir() string { return filepath.Join(c.work, "kwokwd") }

// env is up.sh's: kwokctl's binary runtime with local binaries, no download.
func (c *cluster) env() []string {
	return append(os.Environ(),
		"KWOK_WORKDIR="+c.kwokWorkdir(),
		"KWOK_KUBE_VERSION="+Versions["kube-apiserver"],
		"KWOK_KUBECTL_BINARY="+c.bin("kubectl"),
		"KWOK_KUBE_APISERVER_BINARY="+c.bin("kube-apiserver"),
		"KWOK_KUBE_CONTROLLER_MANAGER_BINARY="+c.bin("kube-controller-manager"),
		"KWOK_KUBE_SCHEDULER_BINARY="+c.bin("kube-scheduler"),
		"KWOK_CONTROLLER_BINARY="+c.bin("kwok"),
		"KWOK_ETCD_BINARY="+c.bin("etcd"),
	)
}

func (c *cluster) kwokctl(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, c.bin("kwokctl"), args...)
	cmd.Env = c.env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return fmt.Errorf("kwokctl %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return nil
}

// extraKCMArgs are the scenario's controller-manager flags kwokctl does not already pass with
// the same value.
func extraKCMArgs(s *fidelity.Scenario) []string {
	var out []string
	for _, kv := range s.KCMFlagList() {
		name, value, _ := strings.Cut(kv, "=")
		if def, ok := kwokctlKCMFlags[name]; ok && sameFlagValue(def, value) {
			continue
		}
		out = append(out, name, value)
	}
	return out
}

// sameFlagValue compares two flag values, as durations when both are ("200s" is "3m20s").
func sameFlagValue(a, b string) bool {
	da, errA := time.ParseDuration(a)
	db, errB := time.ParseDuration(b)
	if errA == nil && errB == nil {
		return da == db
	}
	return a == b
}

// kwokctlConfig is a KwokctlConfiguration passing extra controller-manager flags (name, value
// pairs) through componentsPatches (sigs.k8s.io/kwok pkg/apis/config/v1alpha1, ComponentPatches).
func kwokctlConfig(extra []string) string {
	var b strings.Builder
	b.WriteString("apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokctlConfiguration\ncomponentsPatches:\n- name: kube-controller-manager\n  extraArgs:\n")
	for i := 0; i+1 < len(extra); i += 2 {
		fmt.Fprintf(&b, "  - key: %s\n    value: %q\n    override: true\n", extra[i], extra[i+1])
	}
	return b.String()
}

// start creates the cluster with the scenario's stage set, as up.sh does, after removing a
// leftover cluster of the same name (a recorder killed mid-run), and checks that the running
// controller manager has the scenario's flags.
func (c *cluster) start(ctx context.Context, s *fidelity.Scenario) error {
	_ = c.stop()
	_ = os.Remove(c.kubeconfig)
	args := []string{"--config", s.StagesFile()}
	if extra := extraKCMArgs(s); len(extra) > 0 {
		path := filepath.Join(c.work, c.name+"-kwokctl.yaml")
		if err := os.WriteFile(path, []byte(kwokctlConfig(extra)), 0o644); err != nil {
			return err
		}
		args = append(args, "--config", path)
	}
	args = append(args, "create", "cluster", "--name", c.name, "--runtime", "binary",
		"--kube-apiserver-binary", c.bin("kube-apiserver"), "--kube-controller-manager-binary", c.bin("kube-controller-manager"),
		"--kube-scheduler-binary", c.bin("kube-scheduler"), "--kwok-controller-binary", c.bin("kwok"), "--etcd-binary", c.bin("etcd"),
		"--kubeconfig", c.kubeconfig, "--timeout", "8m", "--wait", "3m")
	if err := c.kwokctl(ctx, args...); err != nil {
		return err
	}
	return c.checkKCMFlags(s)
}

// stop deletes the cluster; it runs on its own context so that it happens after a cancel.
// kwokctl's binary runtime signals the components and returns at once; stop then waits until
// they have exited, so that the next cluster, which gets the same apiserver port, never meets
// the old apiserver still shutting down.
func (c *cluster) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pids := c.pids()
	if err := c.kwokctl(ctx, "delete", "cluster", "--name", c.name); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				return fmt.Errorf("the cluster's process %d is still running a minute after kwokctl delete cluster", pid)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// pids are the cluster's component processes, from kwokctl's pid files.
func (c *cluster) pids() []int {
	dir := filepath.Join(c.kwokWorkdir(), "clusters", c.name, "pids")
	entries, _ := os.ReadDir(dir)
	var out []int
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// alive reports whether a process is running (and not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// checkKCMFlags reads the running kube-controller-manager's command line (its pid from
// kwokctl's pid file, the arguments from /proc) and fails unless it has every flag of the
// scenario with its value.
func (c *cluster) checkKCMFlags(s *fidelity.Scenario) error {
	pidFile := filepath.Join(c.kwokWorkdir(), "clusters", c.name, "pids", "kube-controller-manager.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return fmt.Errorf("the controller manager's flags: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%s: %w", pidFile, err)
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return fmt.Errorf("the controller manager (pid %d) is not running: %w", pid, err)
	}
	got := parseFlags(strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00"))
	for _, kv := range s.KCMFlagList() {
		name, want, _ := strings.Cut(kv, "=")
		if v, ok := got[name]; !ok || !sameFlagValue(v, want) {
			return fmt.Errorf("scenario %s wants kube-controller-manager --%s=%s; the running one (pid %d) has %q", s.Name, name, want, pid, v)
		}
	}
	return nil
}

// parseFlags reads --name=value and --name value arguments; a repeated flag's last value wins,
// as pflag takes it.
func parseFlags(args []string) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			value = args[i+1]
			i++
		}
		out[name] = value
	}
	return out
}
