package plots

// timeUnit is the unit a time axis is drawn in: seconds divided by Seconds read as Name.
type timeUnit struct {
	Name    string
	Seconds float64
}

// unitFor picks the unit a person reads a span of span seconds in: a minute of data in
// seconds, an hour in minutes, two days in hours, longer in days, so tick labels stay short
// numbers ("90 min", not "5400 s").
func unitFor(span float64) timeUnit {
	switch {
	case span < 2*60:
		return timeUnit{"s", 1}
	case span < 2*3600:
		return timeUnit{"min", 60}
	case span < 2*86400:
		return timeUnit{"h", 3600}
	default:
		return timeUnit{"d", 86400}
	}
}
