package openb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kwoksim/kwoksim/analysis"
)

// Output file names in the import's directory.
const (
	NodesFile = "nodes.yaml"
	TraceFile = "trace.jsonl"
)

// Summary counts what an import wrote.
type Summary struct {
	Nodes  int
	Pods   int
	Events int // pod creations plus deletions
	// Templates are the ResourceClaimTemplates (GPUDRA), one per GPU request shape. The
	// trace applies them, after the DeviceClass, at t=0 before its Events.
	Templates int
	// Setup counts the trace's events before the pods: the DeviceClass and the Templates
	// (GPUDRA), none otherwise.
	Setup int
}

// Output is an import rendered in memory.
type Output struct {
	Nodes   []byte // nodes.yaml
	Trace   []byte // trace.jsonl
	Summary Summary
}

// Convert reads a node list and a pod list and renders nodes.yaml and trace.jsonl with the
// options' mapping. The file names are only for error messages. Both inputs are read, so
// that the problems of both are reported at once.
func Convert(nodesCSV io.Reader, nodesFile string, podsCSV io.Reader, podsFile string, opts Options) (*Output, error) {
	nodes, nerr := ReadNodes(nodesCSV, nodesFile)
	if nerr == nil && opts.dra() {
		nerr = checkDRANodes(nodes, nodesFile)
	}
	pods, perr := ReadPods(podsCSV, podsFile)
	if err := join(nerr, perr); err != nil {
		return nil, err
	}
	var nb, tb bytes.Buffer
	if err := WriteNodes(&nb, nodes, opts); err != nil {
		return nil, err
	}
	n, templates, err := WriteTrace(&tb, pods, opts)
	if err != nil {
		return nil, err
	}
	sum := Summary{Nodes: len(nodes), Pods: len(pods), Events: n, Templates: templates}
	if opts.dra() {
		sum.Setup = 1 + templates
	}
	return &Output{Nodes: nb.Bytes(), Trace: tb.Bytes(), Summary: sum}, nil
}

// checkDRANodes refuses the nodes whose cards the devices annotation cannot describe.
func checkDRANodes(nodes []Node, file string) error {
	var errs errorList
	for _, n := range nodes {
		if n.GPUs > maxDRAGPUs {
			errs.add(&Error{File: file, Line: n.Line, Column: "gpu",
				Msg: fmt.Sprintf("expected at most %d GPUs per node with --gpu %s (one device each), got %d", maxDRAGPUs, GPUDRA, n.GPUs)})
		}
	}
	return errs.err()
}

// join is errors.Join that leaves a lone error as it is, so a single *Error is returned
// as one rather than wrapped.
func join(errs ...error) error {
	var set []error
	for _, err := range errs {
		if err != nil {
			set = append(set, err)
		}
	}
	if len(set) == 1 {
		return set[0]
	}
	return errors.Join(set...)
}

// Import converts the CSV files at nodesPath and podsPath into outDir/nodes.yaml and
// outDir/trace.jsonl with the options' mapping, creating outDir if needed. Everything is read, checked and rendered
// before anything is written, so bad input leaves outDir as it was; each file is written to
// a temporary file in outDir and renamed, so a reader never sees half of one.
//
// Problems with the inputs are *Error values (several joined with errors.Join).
func Import(nodesPath, podsPath, outDir string, opts Options) (Summary, error) {
	nodesCSV, nerr := os.ReadFile(nodesPath)
	podsCSV, perr := os.ReadFile(podsPath)
	if nerr != nil || perr != nil {
		return Summary{}, join(readError(nodesPath, nerr), readError(podsPath, perr))
	}
	out, err := Convert(bytes.NewReader(nodesCSV), nodesPath, bytes.NewReader(podsCSV), podsPath, opts)
	if err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("creating output directory: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{NodesFile, out.Nodes}, {TraceFile, out.Trace}} {
		path := filepath.Join(outDir, f.name)
		err := analysis.WriteFileAtomic(path, func(w io.Writer) error {
			_, err := w.Write(f.data)
			return err
		})
		if err != nil {
			return Summary{}, err
		}
		// WriteFileAtomic's temporary file is private (0600); these are inputs to share.
		if err := os.Chmod(path, 0o644); err != nil {
			return Summary{}, err
		}
	}
	return out.Summary, nil
}

// readError reports a file that cannot be read; the *fs.PathError text already has the path,
// so only its cause goes in the message.
func readError(path string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	return &Error{File: path, Msg: msg, Err: err}
}
