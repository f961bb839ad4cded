package analysis

// FormatSeconds renders virtual seconds as the report's table does (1.5s, 2.0m, 3.1h), for the
// other renderings of a report (plots, the HTML page) to read the same.
func FormatSeconds(s float64) string { return formatSeconds(s) }

// FormatUsage renders one resource of a node as "requested/allocatable (percent)", as the
// table does, or "-" when the node does not offer the resource.
func FormatUsage(nr NodeReport, res string) string { return usage(nr, res) }
