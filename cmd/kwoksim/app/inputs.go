package app

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// pathFlags are the flags that take one path each, repeatable: where a shell glob lands.
var pathFlags = []string{"nodes", "workload", "filename", "trace", "stages"}

// noArgsOrGlob refuses arguments as cobra.NoArgs does, but says why paths usually appear: a
// shell glob given to a path flag (--nodes nodes/*.yaml) expands to several words, of which the
// flag takes only the first. pflag cannot take the rest as the flag's values, so the message
// says how to give them. Arguments that do not look like paths get cobra's own message.
func noArgsOrGlob(c *cobra.Command, args []string) error {
	if len(args) == 0 || !looksLikePath(args[0]) {
		return cobra.NoArgs(c, args)
	}
	flag := "nodes"
	for _, name := range pathFlags {
		// The flag whose last value sits where the first stray argument does is the one the
		// glob was given to.
		if f := c.Flags().Lookup(name); f != nil && f.Changed {
			if vs, err := c.Flags().GetStringArray(name); err == nil && len(vs) > 0 &&
				filepath.Dir(vs[len(vs)-1]) == filepath.Dir(args[0]) {
				flag = name
				break
			}
		}
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	dir, what := filepath.Dir(args[0]), "argument"
	if len(args) > 1 {
		what = "arguments"
	}
	return fmt.Errorf("unexpected %s %s: --%s takes one path; repeat the flag for each file "+
		"(--%s a.yaml --%s b.yaml) or pass the directory (--%s %s/); a shell glob such as --%s %s/*.yaml expands to several arguments",
		what, strings.Join(quoted, " "), flag, flag, flag, flag, dir, flag, dir)
}

// looksLikePath is whether an argument is a path a glob could have produced: it has a
// directory or a manifest's or trace's extension.
func looksLikePath(arg string) bool {
	switch filepath.Ext(arg) {
	case ".yaml", ".yml", ".json", ".jsonl":
		return true
	}
	return strings.ContainsRune(arg, filepath.Separator)
}

// mixedInputs are what --workload and -f/--filename hold, split for a run.
type mixedInputs struct {
	nodes, objs []manifest.Object
	// pools are the NodePools: validated, carried to the report, not stored in the apiserver.
	pools   []manifest.Object
	skipped []analysis.SkippedKind
}

// loadMixed reads --workload and -f/--filename, which take any mix of kinds: Nodes go with
// --nodes, created before everything else; the other objects are created in Helm's install
// order (manifest.SortInstallOrder), -f's before --workload's within a kind, so that a bundle
// listing a Deployment before its Namespace or PriorityClass works. Objects the simulator does
// not store are skipped: one line on stderr, and an error under strictKinds. NodePools are
// kept apart, for the report to list as not acted on.
func loadMixed(stderr io.Writer, workload, files []string, opts manifest.LoadOptions, strictKinds bool) (*mixedInputs, error) {
	var fromFiles, fromWorkload []manifest.Object
	var skipped []manifest.Skipped
	for _, in := range []struct {
		paths []string
		objs  *[]manifest.Object
	}{{files, &fromFiles}, {workload, &fromWorkload}} {
		if len(in.paths) == 0 {
			continue
		}
		objs, s, err := manifest.LoadMixed(in.paths, opts, workloads.Served)
		if err != nil {
			return nil, err
		}
		*in.objs = objs
		skipped = append(skipped, s...)
	}
	all := append(fromFiles, fromWorkload...)
	manifest.SortInstallOrder(all)
	m := &mixedInputs{skipped: workloads.CountSkipped(skipped)}
	for _, o := range all {
		switch o.Obj.(type) {
		case *corev1.Node:
			m.nodes = append(m.nodes, o)
		case *autoscaling.NodePool:
			m.pools = append(m.pools, o)
		default:
			m.objs = append(m.objs, o)
		}
	}
	if strictKinds {
		if err := workloads.CheckSkipped(m.skipped); err != nil {
			return nil, err
		}
	}
	if line := analysis.SkippedLine(m.skipped); line != "" {
		fmt.Fprintf(stderr, "kwoksim: %s\n", line)
	}
	return m, nil
}

// reportInputs writes to stderr what the report says about the inputs once the run is done:
// the kinds stored but not acted on, and what was added to them as a real cluster would.
func reportInputs(stderr io.Writer, r *analysis.Report) {
	if r == nil {
		return
	}
	if line := analysis.NotActedOnLine(r.NotActedOn); line != "" {
		fmt.Fprintf(stderr, "kwoksim: %s\n", line)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(stderr, "kwoksim: note: %s\n", n)
	}
}
