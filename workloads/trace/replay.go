package trace

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kwoksim/kwoksim/workloads/manifest"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/drain"
	"github.com/kwoksim/kwoksim/workloads/load"
)

// Replay feeds trace events to a simulation on its virtual clock. Several traces are merged
// by time; events at the same time run in the order of the files, then of their lines. Only
// the next event of each file is in memory.
type Replay struct {
	s       *sim.Simulator
	sources []*traceSource
	strict  bool
	// drainer runs the trace's drains; made at the first drain.
	drainer *drain.Drainer
	// arrivals follows the created pods and leaves out deletions (SetArrivals); nil: as recorded.
	arrivals *arrivals
}

type traceSource struct {
	r    traceReader
	head *Event // nil once the file is exhausted
}

// Start opens the traces and schedules their first events on the simulation's clock.
func Start(s *sim.Simulator, paths []string, strict bool, maxBytes int) (*Replay, error) {
	rp := &Replay{s: s, strict: strict}
	for _, p := range paths {
		r, err := openTrace(p, maxBytes)
		if err != nil {
			rp.Close()
			return nil, err
		}
		src := &traceSource{r: r}
		rp.sources = append(rp.sources, src)
		if err := src.advance(); err != nil {
			rp.Close()
			return nil, err
		}
	}
	rp.arm()
	return rp, nil
}

func (src *traceSource) advance() error {
	ev, err := src.r.next()
	if errors.Is(err, io.EOF) {
		src.head = nil
		return nil
	}
	if err != nil {
		src.head = nil
		return err
	}
	src.head = ev
	return nil
}

// Close closes the trace files.
func (rp *Replay) Close() {
	for _, src := range rp.sources {
		src.r.Close()
	}
}

// nextAt is the time of the earliest pending event.
func (rp *Replay) nextAt() (time.Duration, bool) {
	var at time.Duration
	found := false
	for _, src := range rp.sources {
		if src.head != nil && (!found || src.head.At < at) {
			at, found = src.head.At, true
		}
	}
	return at, found
}

// arm schedules the next batch: the events at the earliest pending time.
func (rp *Replay) arm() {
	at, ok := rp.nextAt()
	if !ok {
		rp.Close()
		return
	}
	rp.s.Clock().At(sim.Epoch.Add(at), func() { rp.fire(at) })
}

// fire runs every event due at at, file by file, then arms the next batch.
func (rp *Replay) fire(at time.Duration) {
	for _, src := range rp.sources {
		for src.head != nil && src.head.At == at {
			ev := src.head
			if err := rp.apply(ev); err != nil {
				rec := analysis.TraceErrorRecord{At: ev.At, File: ev.Source.File, Line: ev.Source.Line, Message: err.Error()}
				if rp.strict {
					rp.s.Abort(&manifest.LoadError{File: rec.File, Line: rec.Line, Msg: fmt.Sprintf("at %v: %s (--strict)", ev.At, rec.Message)})
					rp.Close()
					return
				}
				rp.s.Recorder().TraceError(rec)
			}
			if err := src.advance(); err != nil {
				rp.s.Abort(err)
				rp.Close()
				return
			}
		}
	}
	rp.arm()
}

// apply carries out one event through the simulated apiserver.
func (rp *Replay) apply(ev *Event) error {
	if rp.arrivals.skips(ev) {
		return nil
	}
	api := rp.s.API()
	switch ev.Op {
	case OpApply:
		for _, o := range ev.Objects {
			if err := rp.applyObject(o.Obj); err != nil {
				return err
			}
		}
		return nil
	case OpDelete:
		k, err := sim.KindNamed(ev.Target.Kind)
		if err != nil {
			return err
		}
		return explain(ev.Target, api.Delete(k, ev.Target.Namespace, ev.Target.Name, metav1.DeleteOptions{GracePeriodSeconds: ev.GracePeriodSeconds}))
	case OpScale:
		k, err := sim.KindNamed(ev.Target.Kind)
		if err != nil {
			return err
		}
		patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, ev.Replicas)
		_, err = api.Patch(k, ev.Target.Namespace, ev.Target.Name, types.MergePatchType, patch, "")
		return explain(ev.Target, err)
	case OpPatch:
		k, err := sim.KindNamed(ev.Target.Kind)
		if err != nil {
			return err
		}
		_, err = api.Patch(k, ev.Target.Namespace, ev.Target.Name, ev.PatchType, ev.Patch, "")
		return explain(ev.Target, err)
	case OpLoad:
		ref := load.Ref{Kind: ev.Target.Kind, Namespace: ev.Target.Namespace, Name: ev.Target.Name}
		return load.Of(rp.s).SetDemand(ref, ev.CPU, ev.Memory)
	}
	return rp.applyFailureOp(ev)
}

// applyObject creates the object, or replaces the spec and metadata of the one that exists
// (as `kubectl replace` does: what the manifest leaves out is reset, status is kept), which
// is what makes a changed Deployment template roll out.
func (rp *Replay) applyObject(obj runtime.Object) error {
	api := rp.s.API()
	k, err := sim.KindOf(obj)
	if err != nil {
		return err
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	ns := m.GetNamespace()
	if k.Namespaced && ns == "" {
		ns = metav1.NamespaceDefault
	}
	if _, err := api.Get(k, ns, m.GetName()); apierrors.IsNotFound(err) {
		if n, ok := obj.(*corev1.Node); ok {
			// A node joins the cluster as a kubelet registers it, with its labels.
			n = n.DeepCopy()
			manifest.AddKubeletLabels(n)
			obj = n
		}
		created, err := api.Create(obj)
		if err == nil {
			rp.arrivals.created(created)
		}
		return err
	}
	next := obj.DeepCopyObject()
	nm, _ := meta.Accessor(next)
	nm.SetNamespace(ns)
	nm.SetResourceVersion("") // no precondition: the trace's change wins
	_, err = api.Update(next)
	return err
}

// explain turns "not found" into the message a trace author needs.
func explain(ref ObjectRef, err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s not found", ref)
	}
	return err
}
