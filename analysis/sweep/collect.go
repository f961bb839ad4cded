package sweep

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Collect merges a directory of runs (the files --reports DIR writes, or what
// `kubectl logs` printed for each pod of the Job) into the comparison. Every regular file
// not starting with a dot is read, in name order. A file may have lines before its JSON
// (a container's log can carry a note on stderr): reading starts at the first line that begins
// with "{". Every run must be of the same sweep (the same number of combinations) and no
// combination may come twice; one without a file is "not run".
func Collect(dir string) (*Result, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var runs []*Run
	from := map[int]string{}
	total := -1
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		run, err := readRun(path)
		if err != nil {
			return nil, err
		}
		switch {
		case total >= 0 && run.Combinations != total:
			return nil, fmt.Errorf("%s: a run of a sweep of %d combinations; %s is of one of %d", path, run.Combinations, from[runs[0].Index], total)
		case run.Index < 0 || run.Index >= run.Combinations:
			return nil, fmt.Errorf("%s: index %d is not a combination of a sweep of %d", path, run.Index, run.Combinations)
		}
		if other, ok := from[run.Index]; ok {
			return nil, fmt.Errorf("%s: combination %d is also in %s", path, run.Index, other)
		}
		total = run.Combinations
		from[run.Index] = path
		runs = append(runs, run)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("%s: no sweep runs (%s documents) found", dir, RunKind)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Index < runs[j].Index })
	res := &Result{APIVersion: APIVersion, Kind: ResultKind, Combinations: make([]Row, total)}
	for i := range res.Combinations {
		res.Combinations[i] = Row{Index: i, Status: StatusNotRun, Label: "(no report)"}
	}
	for _, run := range runs {
		res.Combinations[run.Index] = Row{Index: run.Index, Label: run.Label, Values: run.Values}
		res.SetReport(run.Index, run.Report)
	}
	res.update()
	return res, nil
}

// readRun decodes one run file.
func readRun(path string) (*Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// Skip lines before the JSON document.
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	offset, line := 0, 1
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "{") {
			break
		}
		offset += len(sc.Bytes()) + 1
		line++
	}
	if offset >= len(data) {
		return nil, fmt.Errorf("%s: no JSON document (expected a %s from `kwoksim sweep --index I -o json`)", path, RunKind)
	}
	var run Run
	dec := json.NewDecoder(bytes.NewReader(data[offset:]))
	if err := dec.Decode(&run); err != nil {
		return nil, fmt.Errorf("%s: from line %d: %v", path, line, err)
	}
	if run.APIVersion != APIVersion || run.Kind != RunKind || run.Report == nil {
		return nil, fmt.Errorf("%s: expected apiVersion %s and kind %s with a report, got %q and %q", path, APIVersion, RunKind, run.APIVersion, run.Kind)
	}
	return &run, nil
}
