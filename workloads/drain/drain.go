package drain

import (
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/sim"
)

// kubectl's timings (drain.go: the wait's poll interval; cmd/drain: EvictErrorRetryDelay).
const (
	PollInterval    = time.Second
	EvictRetryDelay = 5 * time.Second
)

// Options are kubectl drain's, as the trace operation gives them.
type Options struct {
	Node string
	// Timeout gives up the drain; 0 waits for ever (kubectl's --timeout=0).
	Timeout time.Duration
	// GracePeriodSeconds overrides each pod's terminationGracePeriodSeconds; nil keeps it
	// (kubectl's -1).
	GracePeriodSeconds *int64
	IgnoreDaemonSets   bool
	DeleteEmptyDirData bool
	Force              bool
	// PodSelector is a label selector restricting the pods drained.
	PodSelector string
	// SkipWaitForDeleteTimeoutSeconds leaves alone, and stops waiting for, a pod deleted
	// more than this many seconds ago; 0 never does.
	SkipWaitForDeleteTimeoutSeconds int
}

// Drainer runs drains on one simulation. It watches the API (New registers it) only to make
// a drain's next retry or poll foreground when a write may change its outcome.
type Drainer struct {
	s      *sim.Simulator
	api    *sim.API
	clock  *clock.Virtual
	active []*drain
}

// New returns a drainer for s and registers its Watcher. Call it before the run, or from a
// clock event (never from a Watcher).
func New(s *sim.Simulator) *Drainer {
	d := &Drainer{s: s, api: s.API(), clock: s.Clock()}
	s.API().Watch(d.observe)
	return d
}

// drain is one drain in progress.
type drain struct {
	*Drainer
	opts     Options
	rec      *analysis.DrainRecord
	deadline *clock.Event // nil without a timeout
	workers  []*worker
	pending  int
	errs     []error
	// ended is the time of the deadline once it has passed.
	ended bool
}

// worker is kubectl's goroutine for one pod: evicting (with retries), then waiting.
type worker struct {
	d       *drain
	pod     *corev1.Pod // kubectl's activePod
	waiting bool        // evicted; polling for the pod to be gone
	done    bool
	// next is the pending retry or poll; background unless a write woke it.
	next       *clock.Event
	at         time.Time
	background bool
	fn         func()
}

func (d *drain) now() time.Time { return d.clock.Now() }

func (d *drain) elapsed() time.Duration { return d.now().Sub(sim.Epoch) }

// Drain starts draining a node, as `kubectl drain` does, and returns its record, which it
// keeps up to date. An error means the drain could not start (the node does not exist, the
// cordon failed) or failed at once (a pod no filter lets go): the record, if any, says so too.
func (dr *Drainer) Drain(opts Options) (*analysis.DrainRecord, error) {
	if err := Cordon(dr.api, opts.Node, true); err != nil {
		return nil, err
	}
	d := &drain{Drainer: dr, opts: opts}
	d.rec = &analysis.DrainRecord{Node: opts.Node, Start: d.elapsed(), Outcome: analysis.DrainInProgress}
	dr.s.Recorder().Drain(d.rec)
	pods, err := d.podsForDeletion()
	if err != nil {
		// kubectl reports the errors alone, not the warnings about skipped pods.
		d.rec.Skipped = nil
		d.finish(analysis.DrainFailed, err)
		return d.rec, err
	}
	if opts.Timeout > 0 {
		d.deadline = dr.clock.At(d.now().Add(opts.Timeout), d.timeout)
	}
	d.pending = len(pods)
	if d.pending == 0 {
		d.complete()
		return d.rec, nil
	}
	dr.active = append(dr.active, d)
	for _, p := range pods {
		w := &worker{d: d, pod: p}
		d.workers = append(d.workers, w)
	}
	// kubectl's goroutines start together; here one after another at the same instant.
	for _, w := range d.workers {
		w.evict()
	}
	return d.rec, nil
}

// podsForDeletion is GetPodsForDeletion: the node's pods (matching the pod selector) in the
// apiserver's list order, through the filters; any fatal filter result fails the drain.
func (d *drain) podsForDeletion() ([]*corev1.Pod, error) {
	sel, err := labels.Parse(d.opts.PodSelector)
	if err != nil {
		return nil, err
	}
	podKind, _ := sim.KindNamed("Pod")
	objs, err := d.api.List(podKind)
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	fatal := map[string][]string{}
	for _, o := range objs {
		p := o.(*corev1.Pod)
		if p.Spec.NodeName != d.opts.Node || !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		st := d.filter(p)
		switch {
		case st.fatal != "":
			fatal[st.fatal] = append(fatal[st.fatal], p.Namespace+"/"+p.Name)
		case st.skip != "":
			d.rec.Skipped = append(d.rec.Skipped, fmt.Sprintf("%s/%s (%s)", p.Namespace, p.Name, st.skip))
		default:
			out = append(out, p)
		}
	}
	if errs := filterErrors(fatal); len(errs) > 0 {
		return nil, utilerrors.NewAggregate(errs)
	}
	return out, nil
}

// evict is one iteration of evictPods' loop for the worker's pod.
func (w *worker) evict() {
	d := w.d
	if d.ended {
		w.finish(fmt.Errorf("error when evicting pods/%q -n %q: global timeout reached: %v", w.pod.Name, w.pod.Namespace, d.opts.Timeout))
		return
	}
	ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: w.pod.Namespace, Name: w.pod.Name}, DeleteOptions: d.deleteOptions()}
	err := d.api.Evict(ev)
	switch {
	case err == nil:
		d.rec.Evicted++
		w.waiting = true
		w.poll() // PollUntilContextTimeout(immediate=true)
	case apierrors.IsNotFound(err):
		w.finish(nil)
	case apierrors.IsTooManyRequests(err):
		d.rec.Refused++
		w.schedule(d.now().Add(EvictRetryDelay), w.retry, false)
	default:
		w.finish(fmt.Errorf("error when evicting pods/%q -n %q: %v", w.pod.Name, w.pod.Namespace, err))
	}
}

// retry follows kubectl's sleep: the pod is read again (a failed read keeps the old one),
// then evicted.
func (w *worker) retry() {
	podKind, _ := sim.KindNamed("Pod")
	if o, err := w.d.api.Get(podKind, w.pod.Namespace, w.pod.Name); err == nil {
		w.pod = o.(*corev1.Pod)
	}
	w.evict()
}

// poll is one check of waitForDelete: gone when missing or replaced by a pod with another
// UID; a pod deleted longer ago than the skip timeout is given up on.
func (w *worker) poll() {
	d := w.d
	podKind, _ := sim.KindNamed("Pod")
	o, err := d.api.Get(podKind, w.pod.Namespace, w.pod.Name)
	switch {
	case apierrors.IsNotFound(err) || (err == nil && o.(*corev1.Pod).UID != w.pod.UID):
		w.finish(nil)
		return
	case err != nil:
		w.finish(fmt.Errorf("error when waiting for pod %q in namespace %q to terminate: %v", w.pod.Name, w.pod.Namespace, err))
		return
	}
	p := o.(*corev1.Pod)
	if shouldSkipPod(p, d.opts.SkipWaitForDeleteTimeoutSeconds, d.now()) {
		w.finish(nil)
		return
	}
	// A terminating pod under a skip timeout is given up on with time alone: foreground.
	fg := d.opts.SkipWaitForDeleteTimeoutSeconds > 0 && p.DeletionTimestamp != nil
	w.schedule(d.now().Add(PollInterval), w.poll, fg)
}

func (w *worker) schedule(at time.Time, fn func(), foreground bool) {
	w.at, w.fn, w.background = at, fn, !foreground
	if foreground {
		w.next = w.d.clock.At(at, w.fire)
	} else {
		w.next = w.d.clock.Daemon(at, w.fire)
	}
}

func (w *worker) fire() {
	w.next = nil
	w.fn()
}

// wake makes the worker's pending retry or poll foreground.
func (w *worker) wake() {
	if w.done || w.next == nil || !w.background || !w.next.Pending() {
		return
	}
	w.next.Cancel()
	w.schedule(w.at, w.fn, true)
}

func (w *worker) finish(err error) {
	if w.done {
		return
	}
	w.done = true
	if w.next != nil {
		w.next.Cancel()
		w.next = nil
	}
	d := w.d
	if err != nil {
		d.errs = append(d.errs, err)
	}
	d.pending--
	if d.pending == 0 {
		d.complete()
	}
}

// timeout is the global context's deadline: every wait ends with the context's error; a
// worker between retries ends when it wakes and finds the deadline passed, as kubectl's
// sleeping goroutine does.
func (d *drain) timeout() {
	d.deadline = nil
	d.ended = true
	for _, w := range d.workers {
		if w.waiting && !w.done {
			w.finish(fmt.Errorf("error when waiting for pod %q in namespace %q to terminate: %v", w.pod.Name, w.pod.Namespace, errDeadline))
		} else if !w.done {
			w.wake() // the retry will give up: foreground, so the drain ends
		}
	}
}

var errDeadline = errors.New("context deadline exceeded")

// complete ends the drain once every worker has returned.
func (d *drain) complete() {
	if d.deadline != nil {
		d.deadline.Cancel()
		d.deadline = nil
	}
	switch {
	case len(d.errs) == 0:
		d.finish(analysis.DrainCompleted, nil)
	case d.ended:
		d.finish(analysis.DrainTimedOut, utilerrors.NewAggregate(d.errs))
	default:
		d.finish(analysis.DrainFailed, utilerrors.NewAggregate(d.errs))
	}
	for i, a := range d.active {
		if a == d {
			d.active = append(d.active[:i], d.active[i+1:]...)
			break
		}
	}
}

func (d *drain) finish(outcome string, err error) {
	end := d.elapsed()
	d.rec.End, d.rec.Outcome = &end, outcome
	if err != nil {
		d.rec.Message = err.Error()
	}
}

// deleteOptions is kubectl's makeDeleteOptions.
func (d *drain) deleteOptions() *metav1.DeleteOptions {
	opts := &metav1.DeleteOptions{}
	if d.opts.GracePeriodSeconds != nil {
		g := *d.opts.GracePeriodSeconds
		opts.GracePeriodSeconds = &g
	}
	return opts
}

// observe wakes the retry or poll of every worker a write concerns: a poll by a change of
// its pod; a retry by a change of any pod or budget in its namespace (what the eviction's
// budget check reads). It only reschedules, never writes (the Watcher rule).
func (dr *Drainer) observe(ev sim.WatchEvent) {
	if len(dr.active) == 0 {
		return
	}
	kind := ev.Kind.Name()
	if kind != "Pod" && kind != "PodDisruptionBudget" {
		return
	}
	m, ok := ev.Object.(metav1.Object)
	if !ok {
		return
	}
	for _, d := range dr.active {
		for _, w := range d.workers {
			if w.done || w.pod.Namespace != m.GetNamespace() {
				continue
			}
			if w.waiting && (kind != "Pod" || w.pod.Name != m.GetName()) {
				continue
			}
			w.wake()
		}
	}
}
