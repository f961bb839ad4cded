package app

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/plots"
	"github.com/kwoksim/kwoksim/analysis/sweep"
	"github.com/kwoksim/kwoksim/version"
)

type sweepFlags struct {
	parallel   int
	out        sweepOutputs
	reportsDir string
	index      int
	emitJob    string
	image      string
}

// newSweepCommand is `kwoksim sweep`. Its runs are child processes of this executable, which
// has the same out-of-tree scheduler plugins; plugins is for reading the configurations first
// and for --index, which runs its combination in this process.
func newSweepCommand(plugins frameworkruntime.Registry) *cobra.Command {
	f := &sweepFlags{parallel: runtime.NumCPU(), out: sweepOutputs{format: "table"}, image: sweep.DefaultImage(version.Get().Version)}
	cmd := &cobra.Command{
		Use:   "sweep FILE",
		Short: "Run a matrix of variations (scheduler configs, nodes, replica scale, seeds, autoscalers, feature gates) and compare them",
		Example: `  kwoksim sweep sweep.yaml
  kwoksim sweep sweep.yaml --parallel 4 -o json --csv out/ --plots out/ --reports out/runs/
  kwoksim sweep sweep.yaml --index 3 -o json
  kwoksim sweep sweep.yaml --emit-job job/ --image my/kwoksim:v1
  kwoksim sweep collect reports/`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return sweepE(c, args[0], f, plugins) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.parallel, "parallel", f.parallel, "simulations run at once, each a process of its own (by default one per CPU);\nwith --emit-job, the Job's parallelism (every combination at once unless given)")
	f.out.register(cmd, "also write the JSON comparison to this file (with --index: the combination's SweepRun)")
	fl.StringVar(&f.reportsDir, "reports", "", "also keep each combination's full report in this directory: <index>.json, as --index -o json prints it")
	fl.IntVar(&f.index, "index", f.index, "run combination I alone, in this process (what each pod of the --emit-job Job does);\nprints the combination and its report (-o json: a SweepRun object)")
	fl.StringVar(&f.emitJob, "emit-job", "", "write a Kubernetes Indexed Job and a ConfigMap of the matrix and its inputs to this directory,\ninstead of running")
	fl.StringVar(&f.image, "image", f.image, "with --emit-job: the container `IMAGE`, whose entrypoint is kwoksim, pulled if not on the node;\nby default kwoksim:<this binary's version>, the tag make image gives it")
	cmd.AddCommand(newSweepCollectCommand())
	return cmd
}

func newSweepCollectCommand() *cobra.Command {
	out := &sweepOutputs{format: "table"}
	cmd := &cobra.Command{
		Use:   "collect DIR",
		Short: "Merge a directory of sweep runs (--index -o json outputs, --reports files) into the comparison",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			res, err := sweep.Collect(args[0])
			if err != nil {
				return inputError{err}
			}
			if err := out.write(c.OutOrStdout(), res); err != nil {
				return err
			}
			if n := res.Count(sweep.StatusNotRun); n > 0 {
				fmt.Fprintf(c.ErrOrStderr(), "kwoksim: note: %d of %d combinations have no report in %s\n", n, len(res.Combinations), args[0])
			}
			return nil
		},
	}
	out.register(cmd, "also write the JSON comparison to this file")
	return cmd
}

func sweepE(c *cobra.Command, file string, f *sweepFlags, plugins frameworkruntime.Registry) error {
	if err := f.check(c); err != nil {
		return err
	}
	m, err := sweep.Load(file)
	if err != nil {
		return inputError{err}
	}
	if err := checkSweepGates(m); err != nil {
		return err
	}
	if c.Flags().Changed("index") {
		// The run, in this process, warns itself of gates that make it not reproducible.
		return sweepIndex(c, m, f, plugins)
	}
	if err := checkSweepInputs(m, plugins); err != nil {
		return err
	}
	warnSweepGates(c.ErrOrStderr(), m)
	if f.emitJob != "" {
		opts := sweep.JobOptions{Image: f.image}
		if c.Flags().Changed("parallel") {
			opts.Parallelism = f.parallel
		}
		job, err := m.EmitJob(opts)
		if err != nil {
			return inputError{err}
		}
		if err := job.Write(f.emitJob); err != nil {
			return err
		}
		fmt.Fprintf(c.OutOrStdout(), "wrote %s and %s: the Indexed Job %s of %d completions, image %s\n",
			filepath.Join(f.emitJob, sweep.ConfigMapFile), filepath.Join(f.emitJob, sweep.JobFile), job.Job.Name, m.Len(), f.image)
		return nil
	}
	return runSweep(c, m, f)
}

// check rejects bad flags before the matrix is read.
func (f *sweepFlags) check(c *cobra.Command) error {
	if err := f.out.check(); err != nil {
		return err
	}
	if f.parallel < 1 {
		return usageError{fmt.Errorf("--parallel must be at least 1, got %d", f.parallel)}
	}
	index := c.Flags().Changed("index")
	switch {
	case index && f.index < 0:
		return usageError{fmt.Errorf("--index must not be negative, got %d", f.index)}
	case index && f.emitJob != "":
		return usageError{fmt.Errorf("--index and --emit-job: give one")}
	case index && (f.reportsDir != "" || f.out.csvDir != "" || f.out.plotsDir != ""):
		return usageError{fmt.Errorf("--index runs one combination: --reports, --csv and --plots compare several; use --report FILE")}
	case f.emitJob != "" && (f.reportsDir != "" || f.out.report != "" || f.out.csvDir != "" || f.out.plotsDir != ""):
		return usageError{fmt.Errorf("--emit-job runs nothing: --report, --reports, --csv and --plots have nothing to write")}
	case c.Flags().Changed("image") && f.emitJob == "":
		return usageError{fmt.Errorf("--image needs --emit-job")}
	case f.emitJob != "" && (f.image == "" || strings.TrimSpace(f.image) != f.image):
		// The apiserver would refuse the Job: its container's image is required and may not
		// begin or end with white space.
		return usageError{fmt.Errorf("--image %q: expected an image reference such as registry.example/kwoksim:v1, without leading or trailing white space", f.image)}
	}
	if err := checkDirFlag("--reports", f.reportsDir); err != nil {
		return err
	}
	return checkDirFlag("--emit-job", f.emitJob)
}

func checkDirFlag(flag, dir string) error { return checkOutputDir(flag, dir) }

// sweepOutputs are where a sweep's comparison goes.
type sweepOutputs struct {
	format   string // table or json
	report   string // JSON comparison file
	csvDir   string
	plotsDir string
}

func (o *sweepOutputs) register(cmd *cobra.Command, reportHelp string) {
	fl := cmd.Flags()
	fl.StringVarP(&o.format, "output", "o", o.format, "output format: table or json")
	fl.StringVar(&o.report, "report", "", reportHelp)
	fl.StringVar(&o.csvDir, "csv", "", "also write the comparison as "+sweep.CSVFile+" to this directory (created if missing)")
	fl.StringVar(&o.plotsDir, "plots", "", "also draw the comparison's plots into this directory (created), each as PNG and SVG")
}

func (o *sweepOutputs) check() error {
	if o.format != "table" && o.format != "json" {
		return usageError{fmt.Errorf("--output must be table or json, not %q", o.format)}
	}
	if err := checkOutputFile("--report", o.report); err != nil {
		return err
	}
	if err := checkDirFlag("--csv", o.csvDir); err != nil {
		return err
	}
	return checkDirFlag("--plots", o.plotsDir)
}

// write writes the files first, then stdout.
func (o *sweepOutputs) write(stdout io.Writer, res *sweep.Result) error {
	if o.report != "" {
		if err := analysis.WriteFileAtomic(o.report, func(w io.Writer) error { return sweep.WriteJSON(w, res) }); err != nil {
			return err
		}
	}
	if o.csvDir != "" {
		if err := os.MkdirAll(o.csvDir, 0o755); err != nil {
			return fmt.Errorf("--csv %s: %w", o.csvDir, err)
		}
		if err := analysis.WriteFileAtomic(filepath.Join(o.csvDir, sweep.CSVFile), func(w io.Writer) error { return sweep.WriteCSV(w, res) }); err != nil {
			return err
		}
	}
	if o.plotsDir != "" {
		if _, err := plots.WriteSweepDir(o.plotsDir, res); err != nil {
			return err
		}
	}
	if o.format == "json" {
		return sweep.WriteJSON(stdout, res)
	}
	return sweep.WriteTable(stdout, res)
}
