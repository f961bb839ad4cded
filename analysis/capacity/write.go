package capacity

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the plan as indented JSON; map keys come out sorted, so the bytes depend
// only on the plan.
func WriteJSON(w io.Writer, p *Plan) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes the plan for a person: the goal, one row per template with its answer
// and cost, then each template's runs with their figures and warnings.
func WriteTable(w io.Writer, p *Plan) error {
	goal := "every pod bound to a node and no workload failing at the end of the run"
	if len(p.Assertions) > 0 {
		goal = strings.Join(p.Assertions, " && ")
	}
	if p.Dynamic != nil {
		if p.Incomplete {
			fmt.Fprintln(w, "INCOMPLETE: interrupted; the figures are those of the run up to then.")
		}
		fmt.Fprintf(w, "Goal: %s.\n", goal)
		return writeDynamic(w, p.Dynamic)
	}
	if p.Incomplete {
		fmt.Fprintln(w, "INCOMPLETE: interrupted; only the runs that finished are shown, and an answer only where they establish it.")
	}
	fmt.Fprintf(w, "Goal: %s.\n", goal)
	fmt.Fprintf(w, "Each run: %d given node(s) plus the template's copies, up to %d; %d run(s) at a time.\n\n", p.GivenNodes, p.MaxNodes, p.Parallel)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TEMPLATE\tFILE\tNODES NEEDED\tCOST/NODE\tTOTAL COST")
	for _, t := range p.Templates {
		needed := "none"
		if t.NodesNeeded != nil {
			needed = strconv.Itoa(*t.NodesNeeded)
		} else if p.Incomplete {
			needed = "unknown"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.File, needed, formatCost(t.CostPerNode, t.CostPerNode), formatCost(t.Cost, t.CostPerNode))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range p.Templates {
		fmt.Fprintf(w, "\n%s: %d run(s)\n", t.Name, len(t.Runs))
		if err := writeRuns(w, t.Runs); err != nil {
			return err
		}
		for _, warn := range t.Warnings {
			fmt.Fprintf(w, "warning: %s\n", warn)
		}
	}
	return nil
}

func writeRuns(w io.Writer, runs []Run) error {
	if len(runs) == 0 {
		return nil
	}
	var resources []string
	seen := map[string]bool{}
	for _, r := range runs {
		for name := range r.Utilization {
			if !seen[name] {
				seen[name] = true
				resources = append(resources, name)
			}
		}
	}
	sort.Strings(resources)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"NODES", "GOAL", "UNSCHEDULABLE", "UNBOUND", "USED"}
	for _, name := range resources {
		head = append(head, strings.ToUpper(name))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range runs {
		goal := "fail"
		if r.Passed {
			goal = "pass"
		}
		row := []string{strconv.Itoa(r.Nodes), goal, strconv.Itoa(r.Unschedulable), strconv.Itoa(r.Unbound), strconv.Itoa(r.Used)}
		for _, name := range resources {
			if u, ok := r.Utilization[name]; ok {
				row = append(row, fmt.Sprintf("%.1f%%", 100*u))
			} else {
				row = append(row, "-")
			}
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// formatCost shows an amount of money with as many decimals as the template's price has, and
// at least 2 (1.8 a node: "1.80", 3 nodes "5.40"; 0.0416 a node: "0.0416", 3 nodes "0.1248"),
// so a template's price and total read alike, without floating-point noise
// (1.1400000000000001).
func formatCost(c, price *float64) string {
	if c == nil {
		return "-"
	}
	return strconv.FormatFloat(*c, 'f', costDecimals(*price), 64)
}

// costDecimals is how many decimals money is shown with for a price: the price's own, as its
// annotation wrote it (the shortest decimal that reads back as the same number), and at
// least 2.
func costDecimals(price float64) int {
	s := strconv.FormatFloat(price, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return max(2, len(s)-i-1)
	}
	return 2
}

// roundCost is a total cost without the floating-point noise of its product (3 × 0.38 is
// 1.1400000000000001): rounded to the price's decimals, which a multiple of the price has at
// most, so the JSON's number is the one the table shows.
func roundCost(c, price float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(c, 'f', costDecimals(price), 64), 64)
	if err != nil || math.IsInf(r, 0) {
		return c
	}
	return r
}
