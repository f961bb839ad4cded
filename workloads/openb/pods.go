package openb

import (
	"io"
	"math"
	"strings"
	"time"
)

// Pod is one row of the pod list (openb_pod_list_*.csv).
type Pod struct {
	Name      string
	CPUMilli  int64
	MemoryMiB int64
	NumGPU    int64    // GPUs the pod asks for
	GPUMilli  int64    // thousandths of each of those GPUs, 1 to 1000 when NumGPU > 0
	GPUModels []string // gpu_spec split at "|"; empty when any model will do
	QoS       string   // "" when the trace gives none
	CreatedAt int64    // seconds from the start of the trace
	DeletedAt int64    // seconds from the start of the trace; meaningful only when Deleted
	Deleted   bool     // the trace has a deletion_time
	Line      int      // 1-based line in the CSV
}

// podColumns are the columns a pod list must have. pod_phase and scheduled_time are left
// out: they record what happened in the original cluster, which the simulation recomputes.
var podColumns = []string{"name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec", "qos", "creation_time", "deletion_time"}

// maxSeconds is the longest time a trace event can be at: the longest Go duration, which is
// what a trace's "at" is read into.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// ReadPods reads a pod list. file names the input in error messages. Every bad row is
// reported (up to a limit), not just the first; on error no pods are returned.
func ReadPods(r io.Reader, file string) ([]Pod, error) {
	t, err := openTable(r, file, podColumns)
	if err != nil {
		return nil, err
	}
	var (
		errs errorList
		pods []Pod
		seen = map[string]int{} // name → line
	)
	t.rows(&errs, func() error {
		p, err := t.pod()
		if err != nil {
			return err
		}
		if line, dup := seen[p.Name]; dup {
			return t.errorf("name", "pod %q is already defined on line %d", p.Name, line)
		}
		seen[p.Name] = p.Line
		pods = append(pods, p)
		return nil
	})
	if err := errs.err(); err != nil {
		return nil, err
	}
	return pods, nil
}

// pod parses the current row as a pod, stopping at its first bad field.
func (t *table) pod() (p Pod, err error) {
	p.Line = t.line
	if p.Name, err = t.name("name", "pod"); err != nil {
		return p, err
	}
	if p.CPUMilli, err = t.uint("cpu_milli", math.MaxInt64); err != nil {
		return p, err
	}
	if p.MemoryMiB, err = t.uint("memory_mib", maxMemoryMiB); err != nil {
		return p, err
	}
	if p.NumGPU, err = t.uint("num_gpu", maxGPUs); err != nil {
		return p, err
	}
	if p.GPUMilli, err = t.uint("gpu_milli", 1000); err != nil {
		return p, err
	}
	if p.NumGPU > 0 && p.GPUMilli == 0 {
		// A pod holding GPUs holds some share of each; 0 would be a request for nothing.
		return p, t.errorf("gpu_milli", "expected 1 to 1000 (thousandths of each GPU) when num_gpu is %d, got 0", p.NumGPU)
	}
	if p.GPUModels, err = t.gpuSpec("gpu_spec"); err != nil {
		return p, err
	}
	if p.QoS, err = t.labelValue("qos"); err != nil {
		return p, err
	}
	if p.CreatedAt, err = t.uint("creation_time", maxSeconds); err != nil {
		return p, err
	}
	if t.field("deletion_time") == "" {
		return p, nil // still running when the trace ended
	}
	if p.DeletedAt, err = t.uint("deletion_time", maxSeconds); err != nil {
		return p, err
	}
	if p.DeletedAt < p.CreatedAt {
		return p, t.errorf("deletion_time", "expected a time no earlier than creation_time (%d), got %d", p.CreatedAt, p.DeletedAt)
	}
	p.Deleted = true
	return p, nil
}

// gpuSpec reads a "|"-separated list of GPU models, each of which must be usable as a node
// selector value; an empty field means any model.
func (t *table) gpuSpec(col string) ([]string, error) {
	s := t.field(col)
	if s == "" {
		return nil, nil
	}
	models := strings.Split(s, "|")
	for _, m := range models {
		if m == "" {
			return nil, t.errorf(col, "expected GPU models separated by \"|\", got %q with an empty model", s)
		}
		if msg := checkLabelValue(m); msg != "" {
			return nil, t.errorf(col, "expected GPU models usable as label values, got %q: %s", m, msg)
		}
	}
	return models, nil
}
