package fidelity

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"sigs.k8s.io/yaml"
)

// Scenario is one directory of the fidelity suite (testdata/fidelity/NAME):
//
//	scenario.yaml  what is run and how it is compared (this type)
//	nodes.yaml     the Nodes, created before t=0
//	trace.yaml     everything else, as a kwoksim trace: workloads applied at 0s, then operations
//	observed.json  what the real cluster did (the recorder writes it)
//
// Both sides get the same inputs: kwoksim replays nodes.yaml and trace.yaml with the stage set
// and controller-manager flags named here; the recorder creates the nodes, then carries out
// each trace event at its time, on a real cluster started with the same stage set and flags.
type Scenario struct {
	// Name is the directory's name.
	Name string `json:"-"`
	// Dir is the directory.
	Dir         string `json:"-"`
	Description string `json:"description"`
	// Stages names the stage set both sides run: testdata/fidelity/stages/<Stages>.yaml.
	Stages string `json:"stages"`
	// KCMFlags are kube-controller-manager flags both sides run with (name without dashes →
	// value), besides the defaults: the real cluster gets them from kwokctl (which always
	// passes --node-monitor-period=25s --node-monitor-grace-period=3m20s) or the recorder;
	// kwoksim from --kcm-flag.
	KCMFlags map[string]string `json:"kcmFlags,omitempty"`
	// Duration is how long after t=0 the scenario is observed (a Go duration, "90s").
	Duration Duration `json:"duration"`
	// Repeats is how many times the recorder runs it on the real cluster.
	Repeats int `json:"repeats"`
	// Checks are how kwoksim is compared with the real cluster (see Check).
	Checks Checks `json:"checks,omitempty"`
	// NodeLabels are the labels of every node of the scenario (nodes.yaml's and those the
	// trace applies), by node name: a check by zone or label reads them.
	NodeLabels map[string]map[string]string `json:"-"`
}

// Duration is a time.Duration written as a Go duration string.
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := yaml.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string such as \"90s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	d.Duration = v
	return nil
}

func (d Duration) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("%q", d.String())), nil }

// Paths of a scenario's files.
func (s *Scenario) NodesFile() string    { return filepath.Join(s.Dir, "nodes.yaml") }
func (s *Scenario) TraceFile() string    { return filepath.Join(s.Dir, "trace.yaml") }
func (s *Scenario) ObservedFile() string { return filepath.Join(s.Dir, "observed.json") }

// StagesFile is the stage set's file, beside the scenarios.
func (s *Scenario) StagesFile() string {
	return filepath.Join(filepath.Dir(s.Dir), "stages", s.Stages+".yaml")
}

// KCMFlagList is KCMFlags as NAME=VALUE, sorted by name.
func (s *Scenario) KCMFlagList() []string {
	names := make([]string, 0, len(s.KCMFlags))
	for n := range s.KCMFlags {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + "=" + s.KCMFlags[n]
	}
	return out
}

// LoadScenario reads dir/scenario.yaml, strictly: an unknown field is an error naming it.
func LoadScenario(dir string) (*Scenario, error) {
	path := filepath.Join(dir, "scenario.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := &Scenario{}
	if err := yaml.UnmarshalStrict(b, s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.Name, s.Dir = filepath.Base(dir), dir
	switch {
	case s.Stages == "":
		return nil, fmt.Errorf("%s: stages: want the name of a stage set in %s", path, filepath.Join(filepath.Dir(dir), "stages"))
	case s.Duration.Duration <= 0:
		return nil, fmt.Errorf("%s: duration: want a positive duration such as \"90s\"", path)
	case s.Repeats <= 0:
		return nil, fmt.Errorf("%s: repeats: want at least 1", path)
	}
	if s.NodeLabels, err = loadNodeLabels(s); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadSuite loads every scenario directory under root (each subdirectory with a scenario.yaml),
// in name order.
func LoadSuite(root string) ([]*Scenario, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, e.Name(), "scenario.yaml")); err != nil {
			continue
		}
		s, err := LoadScenario(filepath.Join(root, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
