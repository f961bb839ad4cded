// Package plots draws a report's figures (utilization and pods over time, the startup-latency
// CDF, the per-node utilization histogram, and those of the gpu, autoscaling and HPA sections
// when the report has them) as PNG and SVG with gonum/plot. It is kept apart
// from package analysis so the simulator does not link a plotting library and its fonts.
package plots
