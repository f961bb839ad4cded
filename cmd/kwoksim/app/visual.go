package app

import (
	"io"

	"github.com/spf13/pflag"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/htmlreport"
	"github.com/kwoksim/kwoksim/analysis/plots"
)

// visualFlags are run's outputs for the eye: --plots and --html.
type visualFlags struct {
	plotsDir string
	htmlFile string
}

func (v *visualFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&v.plotsDir, "plots", "", "also draw the plots into this directory (created), each as PNG and SVG:\nutilization, pods, startup-latency, node-utilization; with GPUs also gpu; with an autoscaler also autoscaling-nodes and\nautoscaling-cost; with HPAs also hpa-replicas; with usage data also usage")
	fl.StringVar(&v.htmlFile, "html", "", "also write the report as one self-contained HTML page (summary, workloads, statistics, plots,\nnodes, unschedulable reasons, gated pods, transitions, trace errors) to this file")
}

// check rejects paths that cannot be written before the run starts, so a long simulation does
// not end at an unwritable path.
func (v visualFlags) check() error {
	if err := checkOutputDir("--plots", v.plotsDir); err != nil {
		return err
	}
	return checkOutputFile("--html", v.htmlFile)
}

// write draws the report's figures and writes its page, each only when asked for and every
// file atomically.
func (v visualFlags) write(r *analysis.Report) error {
	if v.plotsDir != "" {
		if _, err := plots.WriteDir(v.plotsDir, r); err != nil {
			return err
		}
	}
	if v.htmlFile != "" {
		return analysis.WriteFileAtomic(v.htmlFile, func(w io.Writer) error { return htmlreport.Write(w, r) })
	}
	return nil
}
