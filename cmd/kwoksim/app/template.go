package app

import (
	"errors"
	"fmt"

	"github.com/kwoksim/kwoksim/workloads/manifest"

	"github.com/spf13/pflag"
)

// templateFlags add copies of a node template to a run's nodes: the what-if "these nodes plus
// N of that shape", and how plan and sweep run each candidate count.
type templateFlags struct {
	file  string
	count int
}

func (t *templateFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&t.file, "node-template", "", "a file holding one Node: --template-nodes copies of it, named <name>-0, <name>-1, …,\nare added to --nodes")
	fl.IntVar(&t.count, "template-nodes", 0, "how many copies of --node-template to add")
}

// check rejects inconsistent flags before anything is read. A run needs nodes from somewhere,
// but zero copies of a template is a valid run (a plan's first candidate).
func (t *templateFlags) check(nodes []string) error {
	switch {
	case t.count < 0:
		return usageError{fmt.Errorf("--template-nodes must not be negative, got %d", t.count)}
	case t.count > 0 && t.file == "":
		return usageError{errors.New("--template-nodes needs --node-template")}
	case t.file == "" && len(nodes) == 0:
		return usageError{errors.New(`required flag(s) "nodes" not set: give --nodes, -f with Nodes, or --node-template with --template-nodes`)}
	}
	return nil
}

// add appends the template's copies to nodes; opts reads the template.
func (t *templateFlags) add(nodes []manifest.Object, opts manifest.LoadOptions) ([]manifest.Object, error) {
	if t.file == "" {
		return nodes, nil
	}
	tmpl, err := manifest.LoadNodeTemplate(t.file, opts)
	if err != nil {
		return nil, err
	}
	return append(nodes, tmpl.Nodes(t.count)...), nil
}
