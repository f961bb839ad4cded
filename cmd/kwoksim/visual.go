package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/htmlreport"
	"github.com/kwoksim/kwoksim/analysis/plots"
)

// checkVisualPaths rejects --plots and --html paths that cannot be written before the run
// starts, so a long simulation does not end in an unwritable path.
func checkVisualPaths(plotsDir, htmlFile string) error {
	if plotsDir != "" {
		if fi, err := os.Stat(plotsDir); err == nil && !fi.IsDir() {
			return usageError{fmt.Errorf("--plots %s: exists and is not a directory", plotsDir)}
		}
	}
	if htmlFile != "" {
		if fi, err := os.Stat(htmlFile); err == nil && fi.IsDir() {
			return usageError{fmt.Errorf("--html %s: is a directory; name the page's file", htmlFile)}
		}
		dir := filepath.Dir(htmlFile)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return usageError{fmt.Errorf("--html %s: directory %s does not exist", htmlFile, dir)}
		}
	}
	return nil
}

// writeVisuals writes the report's figures into plotsDir (PNG and SVG, created if need be)
// and its HTML page to htmlFile, each only when named and each file atomically.
func writeVisuals(plotsDir, htmlFile string, r *analysis.Report) error {
	if plotsDir != "" {
		if _, err := plots.WriteDir(plotsDir, r); err != nil {
			return err
		}
	}
	if htmlFile != "" {
		return analysis.WriteFileAtomic(htmlFile, func(w io.Writer) error { return htmlreport.Write(w, r) })
	}
	return nil
}
