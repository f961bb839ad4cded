package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/drain"
)

// FailMode is how a `fail` operation makes a node fail.
type FailMode string

const (
	// FailStop stops the node's kubelet: no lease renewal, no status; the node lifecycle
	// controller marks it Unknown after --node-monitor-grace-period (the default).
	FailStop FailMode = "stop"
	// FailNotReady keeps the kubelet renewing its lease but reporting Ready=False, as KWOK's
	// chaos stage node-not-ready (stages/node/chaos) does.
	FailNotReady FailMode = "not-ready"
	// FailDelete deletes the Node object, as a cloud provider does when it removes a VM.
	FailDelete FailMode = "delete"
)

var failModes = map[FailMode]sim.KubeletState{FailStop: sim.KubeletStopped, FailNotReady: sim.KubeletNotReady, FailDelete: sim.KubeletRunning}

// decodeFailureOp decodes evict, cordon, uncordon, drain, fail and recover.
func decodeFailureOp(ev *Event, body json.RawMessage) error {
	switch ev.Op {
	case OpEvict:
		var e struct {
			Namespace          string `json:"namespace"`
			Name               string `json:"name"`
			GracePeriodSeconds *int64 `json:"gracePeriodSeconds"`
		}
		if err := strictUnmarshal(body, &e); err != nil {
			return err
		}
		if e.Name == "" {
			return errors.New("missing name (of the pod)")
		}
		if e.Namespace == "" {
			e.Namespace = metav1.NamespaceDefault
		}
		if err := checkGrace(e.GracePeriodSeconds); err != nil {
			return err
		}
		ev.Target = ObjectRef{Kind: "Pod", Namespace: e.Namespace, Name: e.Name}
		ev.GracePeriodSeconds = e.GracePeriodSeconds
	case OpCordon, OpUncordon, OpRecover:
		var n struct {
			Node string `json:"node"`
		}
		if err := strictUnmarshal(body, &n); err != nil {
			return err
		}
		if n.Node == "" {
			return errors.New("missing node")
		}
		ev.Node = n.Node
	case OpFail:
		var f struct {
			Node string   `json:"node"`
			Mode FailMode `json:"mode"`
		}
		if err := strictUnmarshal(body, &f); err != nil {
			return err
		}
		if f.Node == "" {
			return errors.New("missing node")
		}
		if f.Mode == "" {
			f.Mode = FailStop
		}
		if _, ok := failModes[f.Mode]; !ok {
			return fmt.Errorf("mode: expected stop, not-ready or delete, got %q", f.Mode)
		}
		ev.Node, ev.FailMode = f.Node, f.Mode
	case OpDrain:
		d := struct {
			Node                     string   `json:"node"`
			Timeout                  duration `json:"timeout"`
			GracePeriodSeconds       *int64   `json:"gracePeriodSeconds"`
			IgnoreDaemonSets         *bool    `json:"ignoreDaemonSets"`
			DeleteEmptyDirData       *bool    `json:"deleteEmptyDirData"`
			Force                    bool     `json:"force"`
			PodSelector              string   `json:"podSelector"`
			SkipWaitForDeleteTimeout duration `json:"skipWaitForDeleteTimeout"`
		}{}
		if err := strictUnmarshal(body, &d); err != nil {
			return err
		}
		if d.Node == "" {
			return errors.New("missing node")
		}
		if err := checkGrace(d.GracePeriodSeconds); err != nil {
			return err
		}
		if _, err := labels.Parse(d.PodSelector); err != nil {
			return fmt.Errorf("podSelector: %v", err)
		}
		ev.Node = d.Node
		ev.Drain = &drain.Options{
			Node:                            d.Node,
			Timeout:                         time.Duration(d.Timeout),
			GracePeriodSeconds:              d.GracePeriodSeconds,
			IgnoreDaemonSets:                d.IgnoreDaemonSets == nil || *d.IgnoreDaemonSets,
			DeleteEmptyDirData:              d.DeleteEmptyDirData == nil || *d.DeleteEmptyDirData,
			Force:                           d.Force,
			PodSelector:                     d.PodSelector,
			SkipWaitForDeleteTimeoutSeconds: int(time.Duration(d.SkipWaitForDeleteTimeout) / time.Second),
		}
	default:
		return fmt.Errorf("unknown operation %q", ev.Op)
	}
	return nil
}

func checkGrace(g *int64) error {
	if g != nil && *g < 0 {
		return fmt.Errorf("gracePeriodSeconds: expected a non-negative integer, got %d", *g)
	}
	return nil
}

// duration is a non-negative Go duration ("5m") or a whole number of seconds (kubectl's
// --skip-wait-for-delete-timeout is one).
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil || v < 0 {
			return fmt.Errorf("expected a non-negative Go duration such as \"90s\", got %q", s)
		}
		*d = duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil || n < 0 {
		return fmt.Errorf("expected a non-negative Go duration such as \"90s\" or whole seconds, got %s", b)
	}
	if n > int64(sim.MaxUntil/time.Second) {
		// Whole seconds past this would overflow time.Duration once multiplied out.
		return fmt.Errorf("%d seconds is past the latest virtual time kwoksim simulates, %v", n, sim.MaxUntil)
	}
	*d = duration(time.Duration(n) * time.Second)
	return nil
}

// applyFailureOp carries out evict, cordon, uncordon, drain, fail and recover.
func (rp *Replay) applyFailureOp(ev *Event) error {
	api := rp.s.API()
	switch ev.Op {
	case OpEvict:
		e := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: ev.Target.Namespace, Name: ev.Target.Name},
			DeleteOptions: &metav1.DeleteOptions{GracePeriodSeconds: ev.GracePeriodSeconds}}
		// A refusal (429, a budget allows no disruption) is the apiserver's message; Evict
		// records it for the report too.
		return explain(ev.Target, api.Evict(e))
	case OpCordon:
		return drain.Cordon(api, ev.Node, true)
	case OpUncordon:
		return drain.Cordon(api, ev.Node, false)
	case OpDrain:
		if rp.drainer == nil {
			rp.drainer = drain.New(rp.s)
		}
		_, err := rp.drainer.Drain(*ev.Drain)
		return err
	case OpFail, OpRecover:
		if err := rp.nodeExists(ev.Node); err != nil {
			return err
		}
		if ev.Op == OpRecover {
			return rp.s.SetKubelet(ev.Node, sim.KubeletRunning)
		}
		if ev.FailMode == FailDelete {
			nodes, _ := sim.KindNamed("Node")
			return api.Delete(nodes, "", ev.Node, metav1.DeleteOptions{})
		}
		return rp.s.SetKubelet(ev.Node, failModes[ev.FailMode])
	}
	return fmt.Errorf("unknown operation %q", ev.Op)
}

func (rp *Replay) nodeExists(node string) error {
	nodes, _ := sim.KindNamed("Node")
	if _, err := rp.s.API().Get(nodes, "", node); apierrors.IsNotFound(err) {
		return fmt.Errorf("Node %s not found", node)
	} else if err != nil {
		return err
	}
	return nil
}
