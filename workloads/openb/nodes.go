package openb

import (
	"io"
	"math"
)

// Node is one row of the node list (openb_node_list_*.csv).
type Node struct {
	Name      string // sn
	CPUMilli  int64
	MemoryMiB int64
	GPUs      int64  // whole GPUs
	Model     string // GPU model, "" when the node has none
	Line      int    // 1-based line in the CSV
}

// nodeColumns are the columns a node list must have, in the order the trace writes them.
var nodeColumns = []string{"sn", "cpu_milli", "memory_mib", "gpu", "model"}

// Bounds that keep derived values inside an int64: memory in bytes, GPUs in thousandths.
const (
	maxMemoryMiB = math.MaxInt64 >> 20
	maxGPUs      = math.MaxInt64 / 1000
)

// ReadNodes reads a node list. file names the input in error messages. Every bad row is
// reported (up to a limit), not just the first; on error no nodes are returned.
func ReadNodes(r io.Reader, file string) ([]Node, error) {
	t, err := openTable(r, file, nodeColumns)
	if err != nil {
		return nil, err
	}
	var (
		errs  errorList
		nodes []Node
		seen  = map[string]int{} // name → line
	)
	t.rows(&errs, func() error {
		n, err := t.node()
		if err != nil {
			return err
		}
		if line, dup := seen[n.Name]; dup {
			return t.errorf("sn", "node %q is already defined on line %d", n.Name, line)
		}
		seen[n.Name] = n.Line
		nodes = append(nodes, n)
		return nil
	})
	if err := errs.err(); err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		// A cluster without nodes cannot run anything; an empty list is a wrong file.
		return nil, &Error{File: file, Msg: "no nodes after the header line"}
	}
	return nodes, nil
}

// node parses the current row as a node, stopping at its first bad field.
func (t *table) node() (n Node, err error) {
	n.Line = t.line
	if n.Name, err = t.name("sn", "node"); err != nil {
		return n, err
	}
	if n.CPUMilli, err = t.uint("cpu_milli", math.MaxInt64); err != nil {
		return n, err
	}
	if n.MemoryMiB, err = t.uint("memory_mib", maxMemoryMiB); err != nil {
		return n, err
	}
	if n.GPUs, err = t.uint("gpu", maxGPUs); err != nil {
		return n, err
	}
	n.Model, err = t.labelValue("model")
	return n, err
}
