package fidelity

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/kwoksim/kwoksim/analysis"
)

// The report as this package reads it: only the fields the comparison needs, by their JSON
// names. Reading the JSON rather than the Go types keeps this file independent of fields the
// report gains later (deletionRequestedAt, workloadSizes, nodeHistory): a report without them
// gives empty data for them, not a build failure.
type reportDoc struct {
	SimulatedSeconds float64          `json:"simulatedSeconds"`
	Pods             []reportPod      `json:"pods"`
	Nodes            []reportNode     `json:"nodes"`
	Workloads        []reportWorkload `json:"workloads"`
	WorkloadSizes    []reportSizes    `json:"workloadSizes"`
	NodeHistory      []reportNodeHist `json:"nodeHistory"`
	HPAs             *reportHPAs      `json:"horizontalPodAutoscalers"`
}

type reportPod struct {
	Namespace           string   `json:"namespace"`
	Name                string   `json:"name"`
	Node                string   `json:"node"`
	Phase               string   `json:"phase"`
	CreatedAt           *float64 `json:"createdAt"`
	ScheduledAt         *float64 `json:"scheduledAt"`
	RunningAt           *float64 `json:"runningAt"`
	DeletedAt           *float64 `json:"deletedAt"`
	DeletionRequestedAt *float64 `json:"deletionRequestedAt"`
	TerminatingAt       *float64 `json:"terminatingAt"`
	UnschedulableReason string   `json:"unschedulableReason"`
	EvictionReason      string   `json:"evictionReason"`
}

type reportNode struct {
	Name string `json:"name"`
}

type reportWorkload struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

type reportSizes struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Owner     string `json:"owner"`
	Sizes     []Size `json:"sizes"`
}

type reportNodeHist struct {
	Name      string       `json:"name"`
	DeletedAt *float64     `json:"deletedAt"`
	Changes   []NodeChange `json:"changes"`
}

// FromReport turns kwoksim's report into an Observation of one Run, the shape the recorder
// writes for the real cluster.
func FromReport(scenario string, r *analysis.Report) (Observation, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return Observation{}, err
	}
	run, err := runFromReportJSON(b)
	if err != nil {
		return Observation{}, err
	}
	return Observation{Scenario: scenario, Source: "kwoksim", Command: "go test ./workloads -run TestFidelity", Runs: []Run{run}}, nil
}

// runFromReportJSON is FromReport's work on the report's JSON.
func runFromReportJSON(b []byte) (Run, error) {
	var doc reportDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return Run{}, fmt.Errorf("reading the report: %w", err)
	}
	run := Run{Duration: doc.SimulatedSeconds, Pods: []Pod{}, Workloads: []Workload{}, Nodes: []Node{}}

	// Workloads: those with sizes over time first (every workload that existed, deleted ones
	// too), then those the report lists at the end that have none.
	seen := map[string]bool{}
	index := map[string]int{}
	for _, w := range doc.WorkloadSizes {
		key := w.Kind + "/" + w.Namespace + "/" + w.Name
		// An object deleted and created again under its name has an entry per incarnation;
		// the Observation has one per name, with the sizes of all of them in order.
		if i, ok := index[key]; ok {
			run.Workloads[i].Sizes = append(run.Workloads[i].Sizes, w.Sizes...)
			continue
		}
		seen[key], index[key] = true, len(run.Workloads)
		run.Workloads = append(run.Workloads, Workload{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, Owner: w.Owner, Sizes: append([]Size{}, w.Sizes...)})
	}
	for _, w := range doc.Workloads {
		key := w.Kind + "/" + w.Namespace + "/" + w.Name
		if seen[key] {
			continue
		}
		seen[key] = true
		run.Workloads = append(run.Workloads, Workload{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, Sizes: []Size{}})
	}
	// A report without workloadSizes lists only the top-level workloads: the ReplicaSets of a
	// Deployment are then inferred from its pods' names (<deployment>-<pod-template-hash>-xxxxx),
	// so that names and owners can still be compared.
	if len(doc.WorkloadSizes) == 0 {
		run.Workloads = append(run.Workloads, inferReplicaSets(run.Workloads, doc.Pods, seen)...)
	}

	for _, p := range doc.Pods {
		pod := Pod{
			Namespace: p.Namespace, Name: p.Name, Node: p.Node,
			Owner:   podOwner(run.Workloads, p.Namespace, p.Name),
			Created: p.CreatedAt, Scheduled: p.ScheduledAt, Running: p.RunningAt, Gone: p.DeletedAt,
			DeletionRequested: p.DeletionRequestedAt,
			Phase:             p.Phase, EvictionReason: p.EvictionReason, Unschedulable: p.UnschedulableReason,
		}
		// terminatingAt has the same meaning (deletionTimestamp set, or deleted outright, the
		// earlier) in reports made before deletionRequestedAt existed.
		if pod.DeletionRequested == nil {
			pod.DeletionRequested = p.TerminatingAt
		}
		if pod.DeletionRequested == nil && p.DeletedAt != nil {
			pod.DeletionRequested = p.DeletedAt
		}
		// The observation's phase is the phase at the end; a pod gone by then has none.
		if p.DeletedAt != nil {
			pod.Phase = ""
		}
		run.Pods = append(run.Pods, pod)
	}

	if len(doc.NodeHistory) > 0 {
		for _, n := range doc.NodeHistory {
			run.Nodes = append(run.Nodes, Node{Name: n.Name, Deleted: n.DeletedAt, Changes: append([]NodeChange{}, n.Changes...)})
		}
	} else {
		// Without nodeHistory the report has only the nodes that exist at the end, and no
		// changes: a node history check then disagrees, which is the truth about such a report.
		for _, n := range doc.Nodes {
			run.Nodes = append(run.Nodes, Node{Name: n.Name, Changes: []NodeChange{}})
		}
	}
	run.HPAs = hpasFromReport(doc.HPAs, run.Workloads)
	return run, nil
}

// inferReplicaSets finds the ReplicaSets of the Deployments in ws from the names of pods:
// pkg/controller/deployment/sync.go (getNewReplicaSet) names a ReplicaSet
// <deployment>-<pod-template-hash>, and the ReplicaSet controller's pods get generateName
// <replicaset>- (pkg/controller/controller_utils.go, getPodsPrefix) plus 5 random characters.
func inferReplicaSets(ws []Workload, pods []reportPod, seen map[string]bool) []Workload {
	var out []Workload
	for _, p := range pods {
		best := ""
		for _, w := range ws {
			if w.Kind != "Deployment" || w.Namespace != p.Namespace || !strings.HasPrefix(p.Name, w.Name+"-") {
				continue
			}
			rest := strings.TrimPrefix(p.Name, w.Name+"-")
			hash, suffix, ok := strings.Cut(rest, "-")
			if !ok || hash == "" || strings.Contains(suffix, "-") || !isGenerated(suffix) {
				continue
			}
			if len(w.Name) > len(best) {
				best = w.Name
			}
		}
		if best == "" {
			continue
		}
		hash, _, _ := strings.Cut(strings.TrimPrefix(p.Name, best+"-"), "-")
		name := best + "-" + hash
		key := "ReplicaSet/" + p.Namespace + "/" + name
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, Workload{Kind: "ReplicaSet", Namespace: p.Namespace, Name: name, Owner: "Deployment/" + best, Sizes: []Size{}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name })
	return out
}

// podOwner is the controller of the pod named name, from the workloads that could own pods:
// the one whose name is the longest that the pod's name extends the way its kind names pods.
// The report has no owner field; the names are enough because the controllers name their
// pods after themselves.
func podOwner(ws []Workload, namespace, name string) string {
	best := Workload{}
	for _, w := range ws {
		if w.Namespace != namespace || !strings.HasPrefix(name, w.Name+"-") || len(w.Name) <= len(best.Name) {
			continue
		}
		if podNameFits(w.Kind, strings.TrimPrefix(name, w.Name+"-")) {
			best = w
		}
	}
	if best.Name == "" {
		return ""
	}
	return best.Kind + "/" + best.Name
}

// podNameFits tells whether rest (the pod's name after "<owner>-") is how an owner of kind
// names its pods.
func podNameFits(kind, rest string) bool {
	switch kind {
	case "ReplicaSet", "DaemonSet":
		// generateName "<owner>-" (controller_utils.go getPodsPrefix) + 5 characters.
		return isGenerated(rest)
	case "StatefulSet":
		// pkg/controller/statefulset/stateful_set_utils.go getPodName: "<set>-<ordinal>".
		return rest != "" && strings.Trim(rest, "0123456789") == ""
	case "Job":
		// pkg/controller/job/indexed_job_utils.go podGenerateNameWithIndex: "<job>-<index>-"
		// for Indexed Jobs, "<job>-" otherwise, then 5 characters.
		if idx, suffix, ok := strings.Cut(rest, "-"); ok {
			return idx != "" && strings.Trim(idx, "0123456789") == "" && isGenerated(suffix)
		}
		return isGenerated(rest)
	}
	return false
}

// isGenerated tells whether s is the suffix the apiserver's generateName adds: 5 characters of
// k8s.io/apimachinery/pkg/util/rand's alphabet (lower-case consonants and digits).
func isGenerated(s string) bool {
	if len(s) != 5 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
