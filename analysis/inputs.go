package analysis

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// What the report says about its inputs: the objects left out, the kinds stored but not acted
// on, and what was added to the inputs as a real cluster would (notes).

// SkippedKind counts the input objects of one apiVersion and kind left out for one reason.
type SkippedKind struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Count      int    `json:"count"`
	Reason     string `json:"reason"`
}

// NotActedOnKind counts the input objects of a kind the simulator stores but that no simulated
// controller acts on; Note says what a real cluster would do with them.
type NotActedOnKind struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Count      int    `json:"count"`
	Note       string `json:"note"`
}

// SortSkipped orders skipped kinds by kind, then apiVersion, then reason, so that a report
// does not depend on the order of its inputs.
func SortSkipped(s []SkippedKind) {
	slices.SortFunc(s, func(a, b SkippedKind) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.APIVersion, b.APIVersion), cmp.Compare(a.Reason, b.Reason))
	})
}

// SortNotActedOn orders by kind, then apiVersion.
func SortNotActedOn(s []NotActedOnKind) {
	slices.SortFunc(s, func(a, b NotActedOnKind) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.APIVersion, b.APIVersion))
	})
}

// SkippedLine is the one line that tells a user what was skipped, for standard error:
// "skipped 23 objects of 6 kinds kwoksim does not simulate: ConfigMap ×4, Secret ×2, …".
// A kind skipped for another reason than not being simulated is followed by that reason's
// short name (see shortReasons). Empty when nothing was skipped.
func SkippedLine(s []SkippedKind) string {
	if len(s) == 0 {
		return ""
	}
	total, kinds := 0, map[string]bool{}
	parts := make([]string, 0, len(s))
	for _, k := range s {
		total += k.Count
		kinds[k.APIVersion+" "+k.Kind] = true
		part := fmt.Sprintf("%s ×%d", k.Kind, k.Count)
		if short := shortReason(k.Reason); short != "" {
			part += " (" + short + ")"
		}
		parts = append(parts, part)
	}
	return fmt.Sprintf("skipped %s of %s kwoksim does not simulate: %s",
		plural(total, "object"), plural(len(kinds), "kind"), strings.Join(parts, ", "))
}

// NotActedOnLine is the line for standard error about kinds stored but not acted on.
func NotActedOnLine(s []NotActedOnKind) string {
	if len(s) == 0 {
		return ""
	}
	parts := make([]string, 0, len(s))
	for _, k := range s {
		parts = append(parts, fmt.Sprintf("%s ×%d (%s)", k.Kind, k.Count, k.Note))
	}
	return "stored but not acted on: " + strings.Join(parts, "; ")
}

// shortReason names a reason other than "not simulated" in a few words, for SkippedLine; the
// report has the full reason.
func shortReason(reason string) string {
	switch {
	case strings.HasPrefix(reason, "Helm hook"):
		return "Helm hook"
	case strings.HasPrefix(reason, "custom resource definitions"):
		return "CRD"
	case strings.HasPrefix(reason, "custom resource"):
		return "custom resource"
	}
	return ""
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// writeInputs is the table output's short section on the inputs: skipped kinds, kinds stored
// but not acted on, notes. Nothing when there is nothing to say.
func writeInputs(w io.Writer, r *Report) {
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "\nSkipped inputs, not simulated (%s):\n", plural(len(r.Skipped), "kind"))
		for _, s := range r.Skipped {
			fmt.Fprintf(w, "  %s %s ×%d: %s\n", s.APIVersion, s.Kind, s.Count, s.Reason)
		}
	}
	if len(r.NotActedOn) > 0 {
		fmt.Fprintln(w, "\nStored but not acted on:")
		for _, s := range r.NotActedOn {
			fmt.Fprintf(w, "  %s %s ×%d: %s\n", s.APIVersion, s.Kind, s.Count, s.Note)
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
}
