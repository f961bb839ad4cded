package app

import (
	"fmt"
	"io"

	"github.com/kwoksim/kwoksim/workloads/manifest"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/input"
)

// newStagesCommand is `kwoksim stages`; plugins are the build's out-of-tree scheduler plugins,
// for the simulator explain --created builds.
func newStagesCommand(plugins frameworkruntime.Registry) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stages",
		Short: "Work with KWOK Stage files",
	}
	cmd.AddCommand(newExplainCommand(plugins))
	return cmd
}

type explainFlags struct {
	stages  []string
	created bool
	seed    uint64
}

func newExplainCommand(plugins frameworkruntime.Registry) *cobra.Command {
	f := &explainFlags{seed: 1}
	cmd := &cobra.Command{
		Use:   "explain [--stages PATH] OBJECT.yaml",
		Short: "Show which stages match an object, their weights, delays and rendered steps",
		Long: `For each object in OBJECT.yaml, evaluate every stage of its kind as the simulator would at
the start of a run: whether the selector matches (and if not, the first requirement that
fails), the chance the stage is picked among those that match, its delay range, and its
steps rendered for the object. The object is taken as written, like a 'kubectl get -o yaml'
dump; --created first stores it as the apiserver does on create (defaults, UID, status reset).`,
		Example: `  kwoksim stages explain --stages stages/ pod.yaml
  kwoksim stages explain --created deployment.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return explainE(c, f, args[0], plugins) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.stages, "stages", nil, "KWOK Stage files: a file or a directory; repeatable (default: the built-in stage-fast set)")
	fl.BoolVar(&f.created, "created", false, "explain the object as the simulated apiserver stores it on create, not as written")
	fl.Uint64Var(&f.seed, "seed", f.seed, "seed for the names and UIDs --created generates")
	return cmd
}

func explainE(c *cobra.Command, f *explainFlags, path string, plugins frameworkruntime.Registry) error {
	if err := checkStdin(flagPaths{"--stages", f.stages}, flagPaths{"OBJECT.yaml", []string{path}}); err != nil {
		return err
	}
	in := &input.Reader{Stdin: c.InOrStdin()}
	set, err := loadStages(c.ErrOrStderr(), in, f.stages, 0)
	if err != nil {
		return err
	}
	if set == nil {
		set = stages.Default()
	}
	// An object of a kind the simulator does not serve has no stages: it is skipped, and said.
	objs, skipped, err := manifest.LoadMixed([]string{path}, manifest.LoadOptions{Input: in}, workloads.Served)
	if err != nil {
		return err
	}
	if line := analysis.SkippedLine(workloads.CountSkipped(skipped)); line != "" {
		if len(objs) == 0 {
			return &workloads.SkippedError{Msg: fmt.Sprintf("%s: nothing to explain: %s", path, line)}
		}
		fmt.Fprintf(c.ErrOrStderr(), "kwoksim: %s\n", line)
	}
	var s *sim.Simulator
	if f.created {
		if s, err = sim.New(c.Context(), sim.Config{Seed: f.seed, Plugins: plugins}); err != nil {
			return err
		}
		defer s.Close()
	}
	out := c.OutOrStdout()
	printed := false
	for _, o := range objs {
		obj := o.Obj
		// A NodePool is kwoksim's input, not an apiserver object: no stage acts on it.
		if pool, ok := obj.(*autoscaling.NodePool); ok {
			fmt.Fprintf(c.ErrOrStderr(), "kwoksim: %s: NodePool %q has no stages: it is the node autoscaler's input (kwoksim run --autoscaler), not an apiserver object\n", o.Source, pool.Name)
			continue
		}
		if s != nil {
			if obj, err = s.API().Create(obj); err != nil {
				return &workloads.InputError{Source: o.Source, Err: err}
			}
		}
		if printed {
			fmt.Fprintln(out)
		}
		printed = true
		if err := explainObject(out, set, o.Source, obj); err != nil {
			return err
		}
	}
	return nil
}

func explainObject(w io.Writer, set []*stages.Stage, src manifest.Source, obj runtime.Object) error {
	k, err := sim.KindOf(obj)
	if err != nil {
		return &workloads.InputError{Source: src, Err: err}
	}
	m, err := stages.Object(obj)
	if err != nil {
		return err
	}
	env, err := sim.ExplainEnv(k.Name(), m)
	if err != nil {
		return err
	}
	es := stages.Explain(set, k.Name(), m, sim.Epoch, env)
	acc, _ := meta.Accessor(obj)
	name := acc.GetName()
	if ns := acc.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	fmt.Fprintf(w, "%s %s (%s): %d stage(s) for kind %s\n", k.Name(), name, src, len(es), k.Name())
	if spec, _ := m["spec"].(map[string]any); k.Name() == "Pod" && spec["nodeName"] == nil {
		fmt.Fprintln(w, "note: spec.nodeName is empty; in a run, stages apply to a pod only once the scheduler binds it to a node")
	}
	if k.Name() == "PersistentVolumeClaim" {
		fmt.Fprintln(w, "note: explain reads no cluster: no StorageClass, Node or CSINode exists here, so a provisioning stage is refused; in a run it reads the stored ones")
	}
	return stages.WriteExplanations(w, es)
}
