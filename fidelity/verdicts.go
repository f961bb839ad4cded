// Verdicts: a figure of the real runs against kwoksim's, exactly or within the recorded spread,
// and how figures are written in findings.

package fidelity

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

func mapRuns[T any](runs []Run, f func(Run) T) []T {
	out := make([]T, len(runs))
	for i, r := range runs {
		out[i] = f(r)
	}
	return out
}

// exact compares kwoksim's value with every real run's: they must all be equal.
func exact(figure string, real []string, kw, note string) Finding {
	f := Finding{Figure: figure, Kwoksim: orNone(kw)}
	if v, same := allSame(real); same {
		f.Real, f.Agree = orNone(v), kw == v
		if !f.Agree {
			f.Note = note
		}
		return f
	}
	parts := make([]string, len(real))
	for i, v := range real {
		parts[i] = fmt.Sprintf("run %d: %s", i+1, orNone(v))
	}
	f.Real = strings.Join(parts, "; ")
	f.Note = "the real runs differ among themselves: an exact check cannot hold; compare within their spread instead"
	return f
}

func allSame(vs []string) (string, bool) {
	for _, v := range vs[1:] {
		if v != vs[0] {
			return "", false
		}
	}
	return vs[0], true
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// counts are pods (or nodes) per key.
type counts map[string]int

// String lists the counts by key, "key=n", abbreviated after maxShown keys.
func (m counts) String() string { return m.format(math.MaxInt) }

const maxShown = 12

func (m counts) format(limit int) string {
	keys := m.keys()
	var parts []string
	for i, k := range keys {
		if i == limit {
			parts = append(parts, fmt.Sprintf("… (%d more)", len(keys)-limit))
			break
		}
		// A key with spaces (a scheduler message, "1 pod") reads better after its count.
		if strings.Contains(k, " ") {
			parts = append(parts, strconv.Itoa(m[k])+" × "+k)
		} else {
			parts = append(parts, k+"="+strconv.Itoa(m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func (m counts) keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return naturalLess(keys[i], keys[j]) })
	return keys
}

// naturalLess orders "node-2" before "node-10", and "2 pods" before "10 pods".
func naturalLess(a, b string) bool {
	if la, ra, ok := leadingNumber(a); ok {
		if lb, rb, ok := leadingNumber(b); ok && ra == rb && la != lb {
			return la < lb
		}
	}
	ta, na := splitTrailingNumber(a)
	tb, nb := splitTrailingNumber(b)
	if ta != tb || na < 0 || nb < 0 {
		return a < b
	}
	if na != nb {
		return na < nb
	}
	return a < b
}

// leadingNumber splits "10 pods" into 10 and "pods" (a trailing s dropped, so that "1 pod"
// and "2 pods" compare by number).
func leadingNumber(s string) (int, string, bool) {
	num, rest, ok := strings.Cut(s, " ")
	n, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0, "", false
	}
	return n, strings.TrimSuffix(rest, "s"), true
}

func splitTrailingNumber(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) {
		return s, -1
	}
	n, err := strconv.Atoi(s[i:])
	if err != nil {
		return s, -1
	}
	return s[:i], n
}

// exactCounts is exact on counts, shown abbreviated; a disagreement notes the keys that differ.
func exactCounts(figure string, real []counts, kw counts) Finding {
	full := make([]string, len(real))
	for i, m := range real {
		full[i] = m.String()
	}
	f := exact(figure, full, kw.String(), "")
	// Show long values abbreviated; the note lists what differs.
	if _, same := allSame(full); same {
		f.Real = orNone(real[0].format(maxShown))
		f.Kwoksim = orNone(kw.format(maxShown))
		if !f.Agree {
			f.Note = countsDiff(real[0], kw)
		}
	}
	return f
}

// countsDiff lists the keys whose counts differ, "key: real a, kwoksim b".
func countsDiff(real, kw counts) string {
	all := counts{}
	for k := range real {
		all[k] = 0
	}
	for k := range kw {
		all[k] = 0
	}
	var parts []string
	for _, k := range all.keys() {
		if real[k] != kw[k] {
			parts = append(parts, fmt.Sprintf("%s: real %d, kwoksim %d", k, real[k], kw[k]))
		}
	}
	if len(parts) > maxShown {
		parts = append(parts[:maxShown], fmt.Sprintf("… (%d more)", len(parts)-maxShown))
	}
	return "differs at " + strings.Join(parts, "; ")
}

// exactSteps is exact on sequences; a disagreement notes the first step that differs.
func exactSteps(figure string, real [][]string, kw []string) Finding {
	join := func(s []string) string { return strings.Join(s, " → ") }
	f := exact(figure, mapSlice(real, join), join(kw), "")
	if !f.Agree {
		if _, same := allSame(mapSlice(real, join)); same {
			f.Note = firstDifference(real[0], kw)
		}
	}
	return f
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func firstDifference(real, kw []string) string {
	for i := 0; i < len(real) || i < len(kw); i++ {
		r, k := "(end)", "(end)"
		if i < len(real) {
			r = real[i]
		}
		if i < len(kw) {
			k = kw[i]
		}
		if r != k {
			return fmt.Sprintf("step %d: real %s, kwoksim %s", i+1, r, k)
		}
	}
	return ""
}

// within compares kwoksim's time with the real runs' min..max widened by tol (seconds). A time
// that never came is "never": it agrees only with runs in which it never came either.
func within(figure string, real []*float64, kw *float64, tol float64) Finding {
	f := Finding{Figure: figure, Kwoksim: fmtTime(kw)}
	never := 0
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range real {
		if v == nil {
			never++
			continue
		}
		lo, hi = math.Min(lo, *v), math.Max(hi, *v)
	}
	switch {
	case never == len(real):
		f.Real, f.Agree = "never", kw == nil
		return f
	case never > 0:
		f.Real = fmt.Sprintf("%s..%s s, never in %d of %d runs", fmtSeconds(lo), fmtSeconds(hi), never, len(real))
		f.Note = "the real runs differ on whether it happens"
		return f
	}
	f.Real = fmt.Sprintf("%s..%s s ±%s", fmtSeconds(lo), fmtSeconds(hi), fmtSeconds(tol))
	if lo == hi {
		f.Real = fmt.Sprintf("%s s ±%s", fmtSeconds(lo), fmtSeconds(tol))
	}
	f.Agree = kw != nil && *kw >= lo-tol && *kw <= hi+tol
	if !f.Agree && kw != nil {
		f.Note = fmt.Sprintf("outside %s..%s s", fmtSeconds(lo-tol), fmtSeconds(hi+tol))
	}
	return f
}

// withinCount compares a count with the real runs' min..max widened by tol.
func withinCount(figure string, real []int, kw, tol int) Finding {
	lo, hi := real[0], real[0]
	for _, v := range real[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	f := Finding{Figure: figure, Kwoksim: strconv.Itoa(kw), Agree: kw >= lo-tol && kw <= hi+tol}
	f.Real = fmt.Sprintf("%d..%d ±%d", lo, hi, tol)
	if lo == hi {
		f.Real = fmt.Sprintf("%d ±%d", lo, tol)
	}
	if !f.Agree {
		f.Note = fmt.Sprintf("outside %d..%d", lo-tol, hi+tol)
	}
	return f
}

func fmtTime(v *float64) string {
	if v == nil {
		return "never"
	}
	return fmtSeconds(*v) + " s"
}

// fmtSeconds prints seconds to the millisecond, without trailing zeros.
func fmtSeconds(v float64) string { return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64) }
