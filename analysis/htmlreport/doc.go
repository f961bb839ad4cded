// Package htmlreport renders a report as one self-contained HTML page: the summary, latency and
// utilization figures, the plots inline, the per-node table, unschedulable reasons,
// transitions and trace errors, with no script and no reference outside the file.
package htmlreport
