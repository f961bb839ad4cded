// Package perf runs Kubernetes' scheduler benchmark, test/integration/scheduler_perf, from its
// own performance-config.yaml files, on the simulator instead of an apiserver and etcd: the
// test cases, workloads, parameters, templates and ops of upstream's format, mapped onto
// virtual time, with SchedulingThroughput and the scheduler's latency histograms measured in
// wall time as upstream measures them.
//
// The format and every op follow k8s.io/kubernetes/test/integration/scheduler_perf at v1.37
// (scheduler_perf.go, operations.go, executor.go, util.go, node_util.go, runners.go); each
// type and function names the upstream one it follows. Where the simulator cannot do what
// upstream does, the workload is not run and the result says why.
package perf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// TestCase is upstream's testCase (scheduler_perf.go): a template of ops and the workloads
// that fill in its parameters.
type TestCase struct {
	Name                           string
	FeatureGates                   map[string]bool
	MetricsCollectorConfig         *metricsCollectorConfig
	WorkloadTemplate               []Op
	Workloads                      []*Workload
	SchedulerConfigPath            string
	DefaultPodTemplatePath         *string
	Labels                         []string
	DefaultThresholdMetricSelector *ThresholdMetricSelector
}

// metricsCollectorConfig is upstream's: the histograms to collect, with label filters. kwoksim
// reads it to accept the files; which histograms it reports is fixed (see metrics.go).
type metricsCollectorConfig struct {
	Metrics map[string][]*labelValues
}

type labelValues struct {
	Label  string
	Values []string
}

// Workload is upstream's Workload: one run of a test case's template with its parameters.
type Workload struct {
	Name                    string
	Params                  Params
	Labels                  []string
	Threshold               Thresholds
	ThresholdMetricSelector *ThresholdMetricSelector
	FeatureGates            map[string]bool
}

// Thresholds is upstream's thresholds: one value, or values by topic name.
type Thresholds struct {
	Value         float64
	ValuesByTopic map[string]float64
}

// UnmarshalJSON takes a number or a map of topic to number, as upstream's does.
func (t *Thresholds) UnmarshalJSON(text []byte) error {
	if errFloat := json.Unmarshal(text, &t.Value); errFloat != nil {
		if errMap := json.Unmarshal(text, &t.ValuesByTopic); errMap != nil {
			return fmt.Errorf("expected either a number or a map of topic name to number: %w, %w", errFloat, errMap)
		}
	}
	return nil
}

// Get is the threshold of a topic (upstream's RunBenchmarkPerfScheduling topicName), or the
// single value.
func (t Thresholds) Get(topic string) float64 {
	if v, ok := t.ValuesByTopic[topic]; ok {
		return v
	}
	return t.Value
}

// ThresholdMetricSelector is upstream's thresholdMetricSelector: which measured value the
// threshold is compared with.
type ThresholdMetricSelector struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	DataBucket  string            `json:"dataBucket"`
	ExpectLower bool              `json:"expectLower,omitempty"`
}

// Params are a workload's parameters, upstream's params: JSON values by name, with the names
// the ops read marked used, so that a misspelt parameter fails the workload.
type Params struct {
	values map[string]any
	used   map[string]bool
}

// UnmarshalJSON keeps the values as JSON decodes them (numbers are float64).
func (p *Params) UnmarshalJSON(b []byte) error {
	p.values, p.used = map[string]any{}, map[string]bool{}
	return json.Unmarshal(b, &p.values)
}

// Int is the parameter as an integer (upstream's params.get).
func (p Params) Int(key string) (int, error) {
	f, err := param[float64](p, key)
	return int(f), err
}

func param[T float64 | string | bool](p Params, key string) (T, error) {
	var t T
	if p.used != nil {
		p.used[key] = true
	}
	v, ok := p.values[key]
	if !ok {
		return t, fmt.Errorf("parameter %s is undefined", key)
	}
	t, ok = v.(T)
	if !ok {
		return t, fmt.Errorf("parameter %s has the wrong type %T", key, v)
	}
	return t, nil
}

// unused lists, sorted, the parameters no op read.
func (p Params) unused() []string {
	var out []string
	for k := range p.values {
		if !p.used[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Config is a performance-config.yaml file: its test cases and where it is, which template
// paths are relative to (scheduler_perf runs each area's test in that area's directory).
type Config struct {
	Path      string
	Dir       string
	TestCases []*TestCase
}

// ConfigError is a performance-config.yaml the command cannot use.
type ConfigError struct {
	Path string
	Err  error
}

func (e *ConfigError) Error() string { return e.Path + ": " + e.Err.Error() }

// BadInput marks the error as bad input (kwoksim exits 2).
func (*ConfigError) BadInput() {}

func (e *ConfigError) Unwrap() error { return e.Err }

// Load reads a performance-config.yaml as upstream's getTestCases and validateTestCases do:
// strictly (an unknown field of an op is an error), every op's opcode known, test case names
// and workload names unique, every test case with a workload and an op that collects metrics.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &ConfigError{Path: path, Err: err}
	}
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, &ConfigError{Path: path, Err: err}
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(j, &raw); err != nil {
		return nil, &ConfigError{Path: path, Err: fmt.Errorf("expected a list of test cases: %w", err)}
	}
	tcs := make([]*TestCase, len(raw))
	for i, r := range raw {
		// Each test case on its own, so that a message says which one (and, for an op, which
		// op: its JSON is in the message) is wrong.
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&tcs[i]); err != nil {
			var named struct{ Name string }
			_ = json.Unmarshal(r, &named)
			return nil, &ConfigError{Path: path, Err: fmt.Errorf("test case %d (%q): %w", i, named.Name, err)}
		}
		if tcs[i] == nil {
			return nil, &ConfigError{Path: path, Err: fmt.Errorf("test case %d is empty", i)}
		}
	}
	if err := validate(tcs); err != nil {
		return nil, &ConfigError{Path: path, Err: err}
	}
	return &Config{Path: path, Dir: filepath.Dir(path), TestCases: tcs}, nil
}

// validate is upstream's validateTestCases, plus what Workload.isValid checks.
func validate(tcs []*TestCase) error {
	if len(tcs) == 0 {
		return errors.New("no test cases")
	}
	names := map[string]bool{}
	for i, tc := range tcs {
		if tc.Name == "" {
			return fmt.Errorf("test case %d has no name", i)
		}
		if names[tc.Name] {
			return fmt.Errorf("test case name %q is not unique", tc.Name)
		}
		names[tc.Name] = true
		if len(tc.Workloads) == 0 {
			return fmt.Errorf("%s: no workloads", tc.Name)
		}
		collects := false
		for _, o := range tc.WorkloadTemplate {
			collects = collects || o.collectsMetrics()
		}
		if !collects {
			return fmt.Errorf("%s: no op in workloadTemplate collects metrics", tc.Name)
		}
		wn := map[string]bool{}
		for _, w := range tc.Workloads {
			if wn[w.Name] {
				return fmt.Errorf("%s: workload name %s is not unique", tc.Name, w.Name)
			}
			wn[w.Name] = true
			if w.Threshold.Value < 0 {
				return fmt.Errorf("%s/%s: threshold %g must not be negative", tc.Name, w.Name, w.Threshold.Value)
			}
			if w.ThresholdMetricSelector == nil {
				w.ThresholdMetricSelector = tc.DefaultThresholdMetricSelector
			}
			if w.ThresholdMetricSelector == nil {
				w.ThresholdMetricSelector = &ThresholdMetricSelector{Name: "SchedulingThroughput", DataBucket: "Average"}
			}
			if w.ThresholdMetricSelector.DataBucket == "" {
				return fmt.Errorf("%s/%s: dataBucket should be set for metric %v", tc.Name, w.Name, w.ThresholdMetricSelector.Name)
			}
		}
	}
	return nil
}

// Selected reports whether a workload runs under a label filter, upstream's enabled()
// (-perf-scheduling-label-filter): comma-separated labels, each "+label" (or "label") required
// and "-label" excluded; an empty filter selects everything.
func Selected(filter string, labels ...string) bool {
	for _, f := range strings.Split(filter, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		switch {
		case strings.HasPrefix(f, "-"):
			if slices.Contains(labels, f[1:]) {
				return false
			}
		case strings.HasPrefix(f, "+"):
			if !slices.Contains(labels, f[1:]) {
				return false
			}
		default:
			if !slices.Contains(labels, f) {
				return false
			}
		}
	}
	return true
}
