package stages

// jqMemo remembers, for one Match call, the results of the jq queries
// already run on the object: stages of one set repeat requirements (KWOK's
// pod stages all test .metadata.deletionTimestamp, most .status.phase), and
// a query's results depend only on its text and the object.
type jqMemo struct {
	n       int
	entries [16]jqMemoEntry
}

type jqMemoEntry struct {
	src     string
	results []any
	err     error
}

// run is q.run(obj), answered from the memo when the same query text has run.
func (m *jqMemo) run(q *jqQuery, obj map[string]any) ([]any, error) {
	for i := range m.n {
		if e := &m.entries[i]; e.src == q.src {
			return e.results, e.err
		}
	}
	results, err := q.run(obj)
	if m.n < len(m.entries) {
		m.entries[m.n] = jqMemoEntry{src: q.src, results: results, err: err}
		m.n++
	}
	return results, err
}
