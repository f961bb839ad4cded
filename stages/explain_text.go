package stages

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// WriteExplanations writes es for a person: matching stages with their chance, weight, delay
// range and rendered steps; the others with the first requirement that fails.
func WriteExplanations(w io.Writer, es []Explanation) error {
	for _, e := range es {
		src := ""
		if e.Source != "" {
			src = " (" + e.Source + ")"
		}
		var refusal *Refusal
		switch {
		case errors.As(e.Err, &refusal):
			// Not a broken stage: what the simulator would do, which is nothing now.
			what := "skipped: the component the stage stands for would wait"
			if refusal.Reason != "" {
				what = fmt.Sprintf("refused: nothing is done and a Warning %s is recorded: %s", refusal.Reason, refusal.Message)
			}
			fmt.Fprintf(w, "\nMATCH     %s%s\n  %s\n", e.Stage.Name, src, what)
			continue
		case e.Err != nil:
			fmt.Fprintf(w, "\nERROR     %s%s\n  %v\n", e.Stage.Name, src, e.Err)
			continue
		case !e.Matches:
			fmt.Fprintf(w, "\nno match  %s%s\n  fails %s\n", e.Stage.Name, src, e.Mismatch)
			continue
		}
		fmt.Fprintf(w, "\nMATCH     %s%s\n", e.Stage.Name, src)
		weight := fmt.Sprint(e.Weight)
		if !e.WeightUsable {
			weight = "unusable weightFrom value"
		}
		delay := "none"
		if e.HasDelay {
			delay = formatDuration(e.DelayMin)
			if e.DelayMax != e.DelayMin {
				delay += " to " + formatDuration(e.DelayMax)
			}
		}
		fmt.Fprintf(w, "  chance %.4g%%, weight %s, delay %s", 100*e.Chance, weight, delay)
		if e.Stage.ImmediateNextStage() {
			fmt.Fprint(w, ", immediateNextStage")
		}
		fmt.Fprintln(w)
		for i, st := range e.Steps {
			if err := writeStep(w, i+1, st); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeStep(w io.Writer, n int, st Step) error {
	fmt.Fprintf(w, "  step %d:\n", n)
	if ev := st.Event; ev != nil {
		fmt.Fprintf(w, "    event %s %s: %s\n", ev.Type, ev.Reason, ev.Message)
	}
	if st.Finalizers != nil {
		if err := writeData(w, "finalizers (json patch)", st.Finalizers.Data); err != nil {
			return err
		}
	}
	if st.Delete {
		fmt.Fprintln(w, "    delete (grace period 0)")
	}
	if p := st.Patch; p != nil {
		if err := writeData(w, describePatch("patch", p.Type, p.Subresource, p.Impersonate), p.Data); err != nil {
			return err
		}
	}
	if a := st.Apply; a != nil {
		if err := writeData(w, describePatch("apply", a.Type, a.Subresource, a.Impersonate), a.Data); err != nil {
			return err
		}
	}
	return nil
}

func describePatch(verb, typ, subresource, user string) string {
	s := verb + " (" + typ
	if subresource != "" {
		s += ", subresource " + subresource
	}
	if user != "" {
		s += ", as " + user
	}
	return s + ")"
}

// writeData prints JSON as indented YAML, the form stage authors write templates in.
func writeData(w io.Writer, title string, data []byte) error {
	y, err := yaml.JSONToYAML(data)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "    %s:\n", title)
	for _, line := range strings.Split(strings.TrimRight(string(y), "\n"), "\n") {
		fmt.Fprintf(w, "      %s\n", line)
	}
	return nil
}

func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	return d.String()
}
