package app

import (
	"fmt"
	"io"

	"github.com/kwoksim/kwoksim/analysis"
)

// outputs are where a run's report goes: stdout in one format, and optionally a JSON file and
// a directory of CSV files.
type outputs struct {
	format string // table, json or yaml
	report string // JSON report file
	csvDir string
}

// check rejects bad output flags before the run, so a long simulation does not end in a
// usage error.
func (o outputs) check() error {
	switch o.format {
	case "table", "json", "yaml":
	default:
		return usageError{fmt.Errorf("--output must be table, json or yaml, not %q", o.format)}
	}
	if err := checkOutputFile("--report", o.report); err != nil {
		return err
	}
	return checkOutputDir("--csv", o.csvDir)
}

// write writes the files first, then stdout, so that what a script reads from stdout is only
// there when the files are.
func (o outputs) write(stdout io.Writer, r *analysis.Report) error {
	if o.report != "" {
		if err := analysis.WriteFileAtomic(o.report, func(w io.Writer) error { return analysis.WriteJSON(w, r) }); err != nil {
			return err
		}
	}
	if o.csvDir != "" {
		if err := analysis.WriteCSV(o.csvDir, r); err != nil {
			return fmt.Errorf("--csv %s: %w", o.csvDir, err)
		}
	}
	switch o.format {
	case "json":
		return analysis.WriteJSON(stdout, r)
	case "yaml":
		return analysis.WriteYAML(stdout, r)
	}
	return analysis.WriteTable(stdout, r)
}
