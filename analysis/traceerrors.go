package analysis

import "time"

// TraceErrorRecord is a trace event the run could not carry out.
type TraceErrorRecord struct {
	At      time.Duration
	File    string
	Line    int
	Message string
}

// TraceErrorReport is one trace error in the report: when (virtual seconds), where in which
// trace file, and what went wrong.
type TraceErrorReport struct {
	At      float64 `json:"at"`
	File    string  `json:"file"`
	Line    int     `json:"line"`
	Message string  `json:"message"`
}

func traceErrorReports(recs []TraceErrorRecord) []TraceErrorReport {
	out := make([]TraceErrorReport, 0, len(recs))
	for _, r := range recs {
		out = append(out, TraceErrorReport{At: r.At.Seconds(), File: r.File, Line: r.Line, Message: r.Message})
	}
	return out
}
