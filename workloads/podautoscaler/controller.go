package podautoscaler

import (
	"slices"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling/hpa"
	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/load"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

var (
	hpaKind, _ = sim.KindNamed("HorizontalPodAutoscaler")
	podKind, _ = sim.KindNamed("Pod")
)

// Controller is the HPA controller. Its Kind is "HorizontalPodAutoscaler".
type Controller struct {
	s      *sim.Simulator
	api    *sim.API
	clock  *clock.Virtual
	queue  *manager.Queue
	load   *load.Model
	calc   *hpa.Controller
	period time.Duration

	selectors selectors
	// pods are the live pods by namespace and name (the controller's pod lister), the stored
	// objects themselves; nil until the first HPA exists, so that a run without HPAs keeps no
	// index.
	pods map[string]map[string]*corev1.Pod
	// records are the HPAs' records by namespace/name; order lists them as created.
	records map[string]*record
	order   []*record
}

var (
	_ manager.Controller   = (*Controller)(nil)
	_ manager.ObjectFilter = (*Controller)(nil)
	_ manager.Observer     = (*Controller)(nil)
)

// New registers the controller with m. The load model is the run's (load.Of).
func New(m *manager.Manager) *Controller {
	s := m.Simulator()
	fl := s.ControlPlane()
	c := &Controller{
		s:      s,
		api:    s.API(),
		clock:  s.Clock(),
		load:   load.Of(s),
		period: fl.HorizontalPodAutoscalerSyncPeriod,
		calc: hpa.New(hpa.Settings{
			DownscaleStabilization:  fl.HorizontalPodAutoscalerDownscaleStabilization,
			Tolerance:               fl.HorizontalPodAutoscalerTolerance,
			CPUInitializationPeriod: fl.HorizontalPodAutoscalerCPUInitializationPeriod,
			InitialReadinessDelay:   fl.HorizontalPodAutoscalerInitialReadinessDelay,
		}),
		selectors: selectors{},
		records:   map[string]*record{},
	}
	c.queue = m.Register(c)
	s.Recorder().HPAs(c.Records)
	return c
}

// Kind is "HorizontalPodAutoscaler".
func (c *Controller) Kind() string { return "HorizontalPodAutoscaler" }

// ObjectChanged reconciles at once a new HPA, and one whose spec changed (a generation bump:
// updateHPA with HPAGeneration on); its own status writes wait for the next period.
func (c *Controller) ObjectChanged(ev sim.WatchEvent) bool {
	h := ev.Object.(*autoscalingv2.HorizontalPodAutoscaler)
	if ev.Type == watch.Added {
		c.track(h)
		return true
	}
	return ev.Old.(*autoscalingv2.HorizontalPodAutoscaler).Generation != h.Generation
}

// track starts following a new HPA: its selector entry, its record, and the pod index.
func (c *Controller) track(h *autoscalingv2.HorizontalPodAutoscaler) {
	c.selectors.putIfAbsent(h.Namespace, h.Name)
	k := hpa.Key(h)
	if _, ok := c.records[k]; !ok {
		r := newRecord(h, c.clock.Now().Sub(sim.Epoch))
		c.records[k] = r
		c.order = append(c.order, r)
	}
	if c.pods == nil {
		c.indexPods()
	}
}

// indexPods fills the pod index from the stored pods (ListShared leaves out terminal pods:
// groupPods would ignore a Failed one, and a Succeeded one has no metrics).
func (c *Controller) indexPods() {
	c.pods = map[string]map[string]*corev1.Pod{}
	objs, _ := c.api.ListShared(podKind)
	for _, o := range objs {
		c.putPod(o.(*corev1.Pod))
	}
}

func (c *Controller) putPod(p *corev1.Pod) {
	if c.pods[p.Namespace] == nil {
		c.pods[p.Namespace] = map[string]*corev1.Pod{}
	}
	c.pods[p.Namespace][p.Name] = p
}

// Observe keeps the pod index, and forgets a deleted HPA (deleteHPA, and reconcileKey's
// NotFound branch, which drops the HPA's recommendations and scale events).
func (c *Controller) Observe(ev sim.WatchEvent) {
	switch o := ev.Object.(type) {
	case *corev1.Pod:
		if c.pods == nil {
			return
		}
		if ev.Type == watch.Deleted {
			delete(c.pods[o.Namespace], o.Name)
			return
		}
		c.putPod(o)
	case *autoscalingv2.HorizontalPodAutoscaler:
		if ev.Type != watch.Deleted {
			return
		}
		k := hpa.Key(o)
		c.selectors.delete(o.Namespace, o.Name)
		c.calc.Forget(k)
		c.queue.Forget(o.Namespace, o.Name)
		if r := c.records[k]; r != nil {
			r.deleted(c.clock.Now().Sub(sim.Epoch))
			delete(c.records, k)
		}
	}
}

// Sync reconciles one HPA, then asks for the next reconcile one sync period later
// (processNextWorkItem's AddRateLimited), in the foreground only while time alone will change
// something (see the package comment).
func (c *Controller) Sync(ns, name string) error {
	obj, err := c.api.Get(hpaKind, ns, name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	h := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	c.track(h) // an HPA restored from a snapshot was never Added through ObjectChanged
	if c.reconcile(h) {
		c.queue.AddAfter(ns, name, c.period)
	} else {
		c.queue.AddAfterInBackground(ns, name, c.period)
	}
	return nil
}

// Records returns the HPAs' records, in the order the HPAs were created (for the report).
func (c *Controller) Records() []*analysis.HPARecord {
	out := make([]*analysis.HPARecord, 0, len(c.order))
	for _, r := range c.order {
		out = append(out, r.rec)
	}
	return out
}

// podsMatching lists the namespace's pods the selector matches, by name.
func (c *Controller) podsMatching(ns string, sel labels.Selector) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range c.pods[ns] {
		if sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Relaid holds the copy a relayout made of an indexed pod (manager.Relaider).
func (c *Controller) Relaid(_ string, old, cur runtime.Object) {
	if p, ok := cur.(*corev1.Pod); ok {
		if pods := c.pods[p.Namespace]; pods != nil && runtime.Object(pods[p.Name]) == old {
			pods[p.Name] = p
		}
	}
}
