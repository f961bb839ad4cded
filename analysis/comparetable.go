package analysis

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// maxPlacementRows keeps the comparison table readable; the JSON form has every pod.
const maxPlacementRows = 50

// WriteComparisonJSON writes the comparison as indented JSON.
func WriteComparisonJSON(w io.Writer, c *Comparison) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteComparisonTable writes the comparison for a person: the figures with A, B and B − A,
// then the pods placed differently.
func WriteComparisonTable(w io.Writer, c *Comparison) error {
	fmt.Fprintf(w, "A: %s (seed %d%s)\nB: %s (seed %d%s)\n\n", c.A.File, c.A.Seed, withAutoscaler(c.A), c.B.File, c.B.Seed, withAutoscaler(c.B))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tA\tB\tB−A")
	for _, f := range c.Figures {
		if isFraction(f.Name) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, percentFigure(f.A), percentFigure(f.B), signedPoints(f.Diff))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, figure(f.A), figure(f.B), signed(f.Diff))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(c.Nodes) == 0 {
		fmt.Fprintln(w, "\nEvery node holds as many pods in both reports.")
	} else {
		fmt.Fprintf(w, "\nNodes holding a different number of pods (%d):\n\n", len(c.Nodes))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NODE\tA\tB")
		for i, n := range c.Nodes {
			if i == maxPlacementRows {
				fmt.Fprintf(tw, "… %d more (see -o json)\t\t\n", len(c.Nodes)-maxPlacementRows)
				break
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", n.Name, podCount(n.A), podCount(n.B))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(c.Placements) == 0 {
		_, err := fmt.Fprintln(w, "\nEvery pod is on the same node in both reports.")
		return err
	}
	fmt.Fprintf(w, "\nPods placed differently (%d):\n\n", len(c.Placements))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "POD\tA\tB")
	missing := false
	for i, p := range c.Placements {
		missing = missing || p.A == nil || p.B == nil
		if i == maxPlacementRows {
			fmt.Fprintf(tw, "… %d more (see -o json)\t\t\n", len(c.Placements)-maxPlacementRows)
			break
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\n", p.Namespace, p.Name, placement(p.A), placement(p.B))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if missing {
		_, err := fmt.Fprintln(w, "\nPods are matched by namespace and name; the seed draws the names of a Deployment's,\nReplicaSet's or Job's pods, so across seeds compare those by node (above).")
		return err
	}
	return nil
}

// withAutoscaler names a side's autoscaler after its seed; nothing for a run without one.
func withAutoscaler(r ComparedReport) string {
	if r.Autoscaler == "" {
		return ""
	}
	return ", " + r.Autoscaler
}

func podCount(n *int) string {
	if n == nil {
		return "(no such node)"
	}
	return strconv.Itoa(*n)
}

func placement(node *string) string {
	switch {
	case node == nil:
		return "(no such pod)"
	case *node == "":
		return "(not scheduled)"
	}
	return *node
}

func figure(v *float64) string {
	if v == nil {
		return "-"
	}
	return number(*v)
}

// isFraction reports whether a figure is a fraction (requested/allocatable, a GPU share), which
// the table shows as a percentage, as run's table does; the JSON form keeps the fraction.
func isFraction(name string) bool {
	return strings.HasPrefix(name, "utilization.") || strings.HasPrefix(name, "gpu.allocation.") ||
		strings.HasPrefix(name, "gpu.stranded.") || name == "gpu.strandedOfIdle"
}

func percentFigure(v *float64) string {
	if v == nil {
		return "-"
	}
	return percent(*v)
}

// signedPoints is a difference of two fractions in percentage points: "+5.0 pp".
func signedPoints(v *float64) string {
	if v == nil {
		return "-"
	}
	s := fmt.Sprintf("%.1f pp", 100**v)
	switch {
	case s == "-0.0 pp":
		return "0.0 pp"
	case *v > 0:
		return "+" + s
	}
	return s
}

func signed(v *float64) string {
	if v == nil {
		return "-"
	}
	if *v > 0 {
		return "+" + number(*v)
	}
	return number(*v)
}

// number shows a whole figure as an integer and any other with six significant digits.
func number(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}
