package analysis

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/component-helpers/storage/ephemeral"
)

// ClaimRecord is what a run observed of one PersistentVolumeClaim: its last state and when it
// reached each step. It is a few fields, not the object: the recorder keeps one per claim and
// overwrites it, so its memory is O(claims) whatever the number of writes.
type ClaimRecord struct {
	Namespace, Name string
	// StorageClass is the claim's class as the PV controller reads it (the beta annotation,
	// else spec.storageClassName: GetPersistentVolumeClaimClass in
	// k8s.io/component-helpers/storage/volume); "" for none.
	StorageClass string
	// Phase is status.phase at the last write ("" is reported as Pending, the phase the
	// apiserver defaults); Volume is spec.volumeName; SelectedNode the
	// volume.kubernetes.io/selected-node annotation the scheduler sets to ask for
	// provisioning on a node; Terminating whether it carried a deletionTimestamp.
	Phase        corev1.PersistentVolumeClaimPhase
	Volume       string
	SelectedNode string
	Terminating  bool
	// VolumeAffinity summarizes the required node affinity of the bound volume (see
	// NodeAffinitySummary); "" when it is unbound or its volume has none.
	VolumeAffinity string
	// CreatedAt is when it was created; ProvisionableAt when the PV controller could act on
	// it: at creation unless its class binds WaitForFirstConsumer, then when the selected-node
	// annotation was set; BoundAt when its phase first was Bound; TerminatingAt when it
	// first carried a deletionTimestamp (or went away without one); DeletedAt when it went
	// away. nil means never.
	CreatedAt, ProvisionableAt, BoundAt, TerminatingAt, DeletedAt *time.Duration
	// Restored marks a claim that existed before the run (loaded from a snapshot): it has no
	// creation time and counts in no latency.
	Restored bool
	// LastWarning is the last Warning event recorded on the claim (ProvisioningFailed,
	// FailedBinding, …), nil when there was none.
	LastWarning *ClaimEvent
}

// ClaimEvent is an event recorded on a claim.
type ClaimEvent struct {
	At      time.Duration
	Reason  string
	Message string
}

// VolumesReport is what the run tells of PersistentVolumeClaims: the report's volumes section,
// left out of the JSON when the run had no claims (assertions then see zero counts and empty
// lists).
type VolumesReport struct {
	// Claims counts the claims: the existing ones by phase at the end, those marked for
	// deletion among them, and the deleted ones; Pending, Bound, Lost and Deleted partition
	// Total.
	Claims ClaimCounts `json:"claims"`
	// Provisioning is provisionableAt → boundAt in seconds, over the claims bound that were
	// created during the run: how long the PV controller and the provisioner took once they
	// could act. Binding is createdAt → boundAt over the same claims: what a pod waits.
	Provisioning Distribution `json:"provisioning"`
	Binding      Distribution `json:"binding"`
	// StorageClasses counts the claims per storage class, by class name ("" for none).
	StorageClasses []StorageClassClaims `json:"storageClasses"`
	// PodsWaiting are the pods left unbound at the end that use a claim not Bound or
	// missing, or whose bound volumes a volume plugin found on no node, by namespace and
	// name, each with why (see PodVolumeWait).
	PodsWaiting []PodVolumeWait `json:"podsWaiting"`
	// PersistentVolumeClaims are the claims of the run, deleted ones included, by namespace
	// and name.
	PersistentVolumeClaims []ClaimReport `json:"persistentVolumeClaims"`
}

// ClaimCounts counts claims (see VolumesReport.Claims).
type ClaimCounts struct {
	Total       int `json:"total"`
	Pending     int `json:"pending"`
	Bound       int `json:"bound"`
	Lost        int `json:"lost"`
	Terminating int `json:"terminating"`
	Deleted     int `json:"deleted"`
}

// StorageClassClaims counts the claims of one storage class.
type StorageClassClaims struct {
	StorageClass string      `json:"storageClass"`
	Claims       ClaimCounts `json:"claims"`
}

// ClaimReport is one claim (see ClaimRecord); times are virtual seconds, null for never.
type ClaimReport struct {
	Namespace    string `json:"namespace"`
	Name         string `json:"name"`
	StorageClass string `json:"storageClass"`
	// Phase is Pending, Bound or Lost: the last one, for a deleted claim too.
	Phase           string   `json:"phase"`
	Volume          string   `json:"volume"`
	SelectedNode    string   `json:"selectedNode,omitempty"`
	VolumeAffinity  string   `json:"volumeAffinity,omitempty"`
	CreatedAt       *float64 `json:"createdAt"`
	ProvisionableAt *float64 `json:"provisionableAt"`
	BoundAt         *float64 `json:"boundAt"`
	TerminatingAt   *float64 `json:"terminatingAt,omitempty"`
	DeletedAt       *float64 `json:"deletedAt,omitempty"`
	Restored        bool     `json:"restored,omitempty"`
	// LastWarning is the claim's last Warning event as "Reason: message".
	LastWarning string `json:"lastWarning,omitempty"`
}

// PodVolumeWait is one pod left unbound at the end of the run that uses a claim that is not
// Bound, or that does not exist, or whose bound volumes a volume plugin rejected.
type PodVolumeWait struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Claim is the pod's first such claim, in spec.volumes order (a generic ephemeral
	// volume's claim is <pod>-<volume>, as ephemeral.VolumeClaimName names it), and
	// ClaimPhase its phase: Pending, Lost, or Missing when it does not exist. A pod whose
	// claims are all Bound is listed too when a volume plugin rejected it (see
	// volumePlugins): Claim is then its first claim whose volume has a node affinity (else
	// its first claim), ClaimPhase Bound, and VolumeAffinity that volume's affinity.
	Claim          string `json:"claim"`
	ClaimPhase     string `json:"claimPhase"`
	VolumeAffinity string `json:"volumeAffinity,omitempty"`
	// SchedulerMessage is the scheduler's message from the pod's last failed attempt;
	// ClaimWarning the claim's last Warning event as "Reason: message"; Provisioning says the
	// scheduler asked for the claim's volume on a node (selected-node set) and the claim is
	// not bound yet. Each is empty when there is none.
	SchedulerMessage string `json:"schedulerMessage"`
	ClaimWarning     string `json:"claimWarning,omitempty"`
	Provisioning     string `json:"provisioning,omitempty"`
	// Reason is the one-line account the table shows: Provisioning, else the scheduler's
	// message, else the claim's state, then the claim's last warning; for a bound claim, the
	// scheduler's message then the volume's affinity.
	Reason string `json:"reason"`
}

// WorkloadVolumeWait is why a workload's pods wait for volumes: how many of its pods wait,
// and the reason of the first of them (report order).
type WorkloadVolumeWait struct {
	Pods   int    `json:"pods"`
	Reason string `json:"reason"`
}

// ClaimMissing is the claimPhase of a pod's claim that does not exist.
const ClaimMissing = "Missing"

// volumePlugins are the scheduler plugins whose rejection of a pod is about its volumes'
// placement once its claims are bound: VolumeBinding's Filter checks a bound volume's node
// affinity ("node(s) didn't match PersistentVolume's node affinity", ErrReasonNodeConflict in
// pkg/scheduler/framework/plugins/volumebinding), VolumeZone its zone labels ("node(s) had
// no available volume zone"). Their names as in pkg/scheduler/framework/plugins/names.
var volumePlugins = []string{"VolumeBinding", "VolumeZone"}

// ProvisioningWait is the account of a pod whose claim the scheduler asked to provision on a
// node and that is not bound yet: VolumeBinding's PreBind waits for it (BindPodVolumes in
// pkg/scheduler/framework/plugins/volumebinding/binder.go) with the pod assumed on the node.
func ProvisioningWait(claim, node string) string {
	return fmt.Sprintf("waiting for the volume of claim %s to be provisioned on node %s", claim, node)
}

// volumesReport builds the volumes section from the claims and the pods; nil without claims.
// waits are the pods waiting, by index in pods, for the workloads' rows.
func volumesReport(claims []ClaimRecord, pods []PodRecord) (v *VolumesReport, waits map[int]PodVolumeWait) {
	if len(claims) == 0 {
		return nil, nil
	}
	v = &VolumesReport{StorageClasses: []StorageClassClaims{}, PodsWaiting: []PodVolumeWait{},
		PersistentVolumeClaims: make([]ClaimReport, 0, len(claims))}
	type key struct{ namespace, name string }
	existing := make(map[key]*ClaimRecord, len(claims))
	classes := map[string]*ClaimCounts{}
	var provisioning, binding []float64
	for i := range claims {
		c := &claims[i]
		phase := c.Phase
		if phase == "" {
			phase = corev1.ClaimPending
		}
		perClass := classes[c.StorageClass]
		if perClass == nil {
			perClass = &ClaimCounts{}
			classes[c.StorageClass] = perClass
		}
		for _, n := range []*ClaimCounts{&v.Claims, perClass} {
			countClaim(n, c, phase)
		}
		if c.DeletedAt == nil {
			existing[key{c.Namespace, c.Name}] = c
		}
		if c.BoundAt != nil && !c.Restored {
			if c.ProvisionableAt != nil {
				provisioning = append(provisioning, (*c.BoundAt - *c.ProvisionableAt).Seconds())
			}
			if c.CreatedAt != nil {
				binding = append(binding, (*c.BoundAt - *c.CreatedAt).Seconds())
			}
		}
		cr := ClaimReport{Namespace: c.Namespace, Name: c.Name, StorageClass: c.StorageClass, Phase: string(phase),
			Volume: c.Volume, SelectedNode: c.SelectedNode, VolumeAffinity: c.VolumeAffinity,
			CreatedAt: seconds(c.CreatedAt), ProvisionableAt: seconds(c.ProvisionableAt), BoundAt: seconds(c.BoundAt),
			TerminatingAt: seconds(c.TerminatingAt), DeletedAt: seconds(c.DeletedAt), Restored: c.Restored}
		if c.LastWarning != nil {
			cr.LastWarning = c.LastWarning.Reason + ": " + c.LastWarning.Message
		}
		v.PersistentVolumeClaims = append(v.PersistentVolumeClaims, cr)
	}
	sort.SliceStable(v.PersistentVolumeClaims, func(i, j int) bool {
		a, b := v.PersistentVolumeClaims[i], v.PersistentVolumeClaims[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	v.Provisioning, v.Binding = distribution(provisioning), distribution(binding)
	for name, n := range classes {
		v.StorageClasses = append(v.StorageClasses, StorageClassClaims{StorageClass: name, Claims: *n})
	}
	sort.Slice(v.StorageClasses, func(i, j int) bool { return v.StorageClasses[i].StorageClass < v.StorageClasses[j].StorageClass })

	waits = map[int]PodVolumeWait{}
	for i, rec := range pods {
		p := rec.Pod
		if p == nil || rec.DeletedAt != nil || p.Spec.NodeName != "" || terminal(p) {
			continue
		}
		// first is the pod's first claim, placed its first bound claim whose volume has a
		// node affinity, for a pod a volume plugin rejected although its claims are bound.
		var first, placed *ClaimRecord
		var w *PodVolumeWait
		for j := range p.Spec.Volumes {
			name := claimOf(p, &p.Spec.Volumes[j])
			if name == "" {
				continue
			}
			c := existing[key{p.Namespace, name}]
			if c != nil && c.Phase == corev1.ClaimBound {
				first = cmp.Or(first, c)
				if placed == nil && c.VolumeAffinity != "" {
					placed = c
				}
				continue
			}
			pw := podVolumeWait(rec, name, c)
			w = &pw
			break
		}
		if w == nil && first != nil && rejectedByVolumePlugin(rec.Outcome) {
			pw := boundVolumeWait(rec, cmp.Or(placed, first))
			w = &pw
		}
		if w != nil {
			waits[i] = *w
			v.PodsWaiting = append(v.PodsWaiting, *w)
		}
	}
	sort.SliceStable(v.PodsWaiting, func(i, j int) bool {
		a, b := v.PodsWaiting[i], v.PodsWaiting[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return v, waits
}

// countClaim adds one claim to n: Deleted, or its phase, and Terminating.
func countClaim(n *ClaimCounts, c *ClaimRecord, phase corev1.PersistentVolumeClaimPhase) {
	n.Total++
	switch {
	case c.DeletedAt != nil:
		n.Deleted++
		return
	case phase == corev1.ClaimBound:
		n.Bound++
	case phase == corev1.ClaimLost:
		n.Lost++
	default:
		n.Pending++
	}
	if c.Terminating {
		n.Terminating++
	}
}

// claimOf is the claim a pod volume uses, "" for a volume of another kind: the named claim,
// or the claim of a generic ephemeral volume.
func claimOf(p *corev1.Pod, vol *corev1.Volume) string {
	switch {
	case vol.PersistentVolumeClaim != nil:
		return vol.PersistentVolumeClaim.ClaimName
	case vol.Ephemeral != nil:
		return ephemeral.VolumeClaimName(p, vol)
	}
	return ""
}

// podVolumeWait is why the pod of rec waits for its claim name; c is that claim, nil when it
// does not exist.
func podVolumeWait(rec PodRecord, name string, c *ClaimRecord) PodVolumeWait {
	w := PodVolumeWait{Namespace: rec.Pod.Namespace, Name: rec.Pod.Name, Claim: name, ClaimPhase: ClaimMissing,
		SchedulerMessage: rec.Reason}
	state := fmt.Sprintf("claim %s does not exist", name)
	if c != nil {
		w.ClaimPhase = string(corev1.ClaimPending)
		if c.Phase != "" {
			w.ClaimPhase = string(c.Phase)
		}
		state = fmt.Sprintf("claim %s is %s", name, w.ClaimPhase)
		if c.Terminating {
			state += " and terminating"
		}
		if c.LastWarning != nil {
			w.ClaimWarning = c.LastWarning.Reason + ": " + c.LastWarning.Message
		}
		if c.SelectedNode != "" && c.Phase != corev1.ClaimLost {
			w.Provisioning = ProvisioningWait(name, c.SelectedNode)
		}
	}
	switch {
	case w.Provisioning != "":
		w.Reason = w.Provisioning
	case w.SchedulerMessage != "":
		w.Reason = w.SchedulerMessage
	default:
		w.Reason = state
	}
	if w.ClaimWarning != "" {
		w.Reason += fmt.Sprintf(" (claim %s: %s)", name, w.ClaimWarning)
	}
	return w
}

// rejectedByVolumePlugin tells whether a volume plugin rejected the pod in its last failed
// attempt.
func rejectedByVolumePlugin(o *SchedulingOutcome) bool {
	if o == nil {
		return false
	}
	for _, p := range o.Plugins {
		if slices.Contains(volumePlugins, p) {
			return true
		}
	}
	return false
}

// boundVolumeWait is why the pod of rec waits although its claim c is bound: the scheduler's
// message, then the volume's node affinity, which no node it tried matched.
func boundVolumeWait(rec PodRecord, c *ClaimRecord) PodVolumeWait {
	w := PodVolumeWait{Namespace: rec.Pod.Namespace, Name: rec.Pod.Name, Claim: c.Name, ClaimPhase: string(corev1.ClaimBound),
		VolumeAffinity: c.VolumeAffinity, SchedulerMessage: rec.Reason, Reason: rec.Reason}
	if c.VolumeAffinity != "" {
		w.Reason += fmt.Sprintf(" (claim %s: volume %s requires %s)", c.Name, c.Volume, c.VolumeAffinity)
	}
	return w
}

// workloadVolumeWaits sets the volumeWait of the listed workloads whose pods wait for
// volumes; owner maps each pod to its workload (see podOwners).
func workloadVolumeWaits(listed []WorkloadReport, owner []int, pods []PodRecord, waits map[int]PodVolumeWait) {
	if len(waits) == 0 {
		return
	}
	// first is the report-order key of the pod whose reason each workload shows.
	first := map[int]string{}
	for i := range pods {
		w, ok := waits[i]
		if !ok || owner[i] < 0 {
			continue
		}
		wl := &listed[owner[i]]
		if wl.VolumeWait == nil {
			wl.VolumeWait = &WorkloadVolumeWait{}
		}
		wl.VolumeWait.Pods++
		if k := w.Namespace + "/" + w.Name; first[owner[i]] == "" || k < first[owner[i]] {
			first[owner[i]], wl.VolumeWait.Reason = k, w.Reason
		}
	}
}

// NodeAffinitySummary is a volume's required node affinity on one line: each term's match
// expressions and fields as kubectl describe prints them ("key In [a, b]", from
// printNodeSelectorTermsMultilineWithIndent in k8s.io/kubectl/pkg/describe), joined by ", "
// within a term and " or " between terms (a node must match one term); "" for none.
func NodeAffinitySummary(a *corev1.VolumeNodeAffinity) string {
	if a == nil || a.Required == nil {
		return ""
	}
	var terms []string
	for _, t := range a.Required.NodeSelectorTerms {
		var reqs []string
		for _, group := range [][]corev1.NodeSelectorRequirement{t.MatchExpressions, t.MatchFields} {
			for _, r := range group {
				reqs = append(reqs, fmt.Sprintf("%s %s [%s]", r.Key, r.Operator, strings.Join(r.Values, ", ")))
			}
		}
		if len(reqs) > 0 {
			terms = append(terms, strings.Join(reqs, ", "))
		}
	}
	return strings.Join(terms, " or ")
}
