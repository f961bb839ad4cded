package openb

import (
	"bufio"
	"cmp"
	"encoding/json"
	"io"
	"slices"
	"strconv"

	"sigs.k8s.io/yaml"
)

// WriteNodes writes the nodes as one multi-document YAML stream, in their given order.
func WriteNodes(w io.Writer, nodes []Node, opts Options) error {
	bw := bufio.NewWriter(w)
	for i, n := range nodes {
		b, err := yaml.Marshal(n.manifest(opts))
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteString("---\n")
		}
		bw.Write(b)
	}
	return bw.Flush()
}

// seconds is a trace time, written as a Go duration in whole seconds ("427061s") rather than
// time.Duration's "118h37m41s", so that it can be matched against the CSV by eye.
type seconds int64

func (s seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, strconv.FormatInt(int64(s), 10)+"s"), nil
}

// event is one line of trace.jsonl: exactly one of Apply (a pod, or with GPUDRA a setup
// object) and Delete is set.
type event struct {
	At     seconds    `json:"at"`
	Apply  any        `json:"apply,omitempty"`
	Delete *objectRef `json:"delete,omitempty"`
	// pod is the name of the pod applied or deleted, for sorting.
	pod string
}

type objectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// order puts an apply before a delete at the same time.
func (e *event) order() int {
	if e.Apply != nil {
		return 0
	}
	return 1
}

// events turns the pods into their creations and deletions, sorted by time, then pod name,
// then apply before delete, so that a pod deleted the second it is created still exists
// first, and the order does not depend on the CSV's.
func events(pods []Pod, opts Options) []event {
	evs := make([]event, 0, 2*len(pods))
	for _, p := range pods {
		evs = append(evs, event{At: seconds(p.CreatedAt), Apply: p.manifest(opts), pod: p.Name})
		if p.Deleted {
			evs = append(evs, event{At: seconds(p.DeletedAt),
				Delete: &objectRef{Kind: "Pod", Namespace: "default", Name: p.Name}, pod: p.Name})
		}
	}
	slices.SortFunc(evs, func(a, b event) int {
		return cmp.Or(
			cmp.Compare(a.At, b.At),
			cmp.Compare(a.pod, b.pod),
			cmp.Compare(a.order(), b.order()),
		)
	})
	return evs
}

// WriteTrace writes the pods' creations and deletions as JSON Lines, one compact event per
// line, and returns the number of those events and of the claim templates. With GPUDRA the
// trace starts with the setup objects (the DeviceClass and the claim templates, see setup),
// each applied at t=0 before any pod, so that the run needs no other input.
func WriteTrace(w io.Writer, pods []Pod, opts Options) (n, templates int, err error) {
	var head []event
	if opts.dra() {
		objs, err := setup(pods)
		if err != nil {
			return 0, 0, err
		}
		for _, o := range objs {
			head = append(head, event{At: 0, Apply: o})
		}
		templates = len(head) - 1
	}
	evs := events(pods, opts)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw) // Encode ends each event with a newline
	enc.SetEscapeHTML(false)
	for _, list := range [][]event{head, evs} {
		for i := range list {
			if err := enc.Encode(&list[i]); err != nil {
				return 0, 0, err
			}
		}
	}
	return len(evs), templates, bw.Flush()
}
