package perf

import (
	"fmt"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// churn is upstream's runChurnOp on virtual time: a tick every interval from one interval
// on, as its time.Ticker, each a background event of the clock (churn never ends by itself,
// and must not keep a wait going that nothing else can end), until the workload ends.
type churn struct {
	e        *executor
	opIndex  int
	op       *churnOp
	ns       string
	objs     []runtime.Object
	kinds    []*sim.Kind
	interval time.Duration
	// live is upstream's retVals: for recreate, the name created in each slot, per template.
	live                     [][]string
	count                    int
	stopped                  bool
	event                    interface{ Cancel() bool }
	created, deleted, failed int
	// errs are the first refused creates; deleteErrs the deletions that failed.
	errs, deleteErrs []string
}

// churn starts a churn op.
func (e *executor) churn(i int, o *churnOp) error {
	ns := fmt.Sprintf("namespace-%d", i)
	if o.Namespace != nil {
		ns = *o.Namespace
	}
	if _, err := e.api.Create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("unable to create namespace %v: %w", ns, err)
	}
	c := &churn{e: e, opIndex: i, op: o, ns: ns, interval: 500 * time.Millisecond}
	if o.IntervalMilliseconds != 0 {
		c.interval = time.Duration(o.IntervalMilliseconds) * time.Millisecond
	}
	// Upstream reads churn templates as plain YAML (getUnstructuredFromFile): no templating.
	for k, p := range o.TemplatePaths {
		full := e.tmpl.path(p)
		data, err := os.ReadFile(full)
		if err != nil {
			return fmt.Errorf("unable to parse the %v-th template path: %w", k, err)
		}
		objs, err := manifest.LoadBytes(full, data, manifest.LoadOptions{})
		if err != nil {
			return fmt.Errorf("unable to parse the %v-th template path: %w", k, err)
		}
		if len(objs) != 1 {
			return fmt.Errorf("the %v-th template path %s has %d objects, want 1", k, p, len(objs))
		}
		kind, err := sim.KindOf(objs[0].Obj)
		if err != nil {
			return fmt.Errorf("unable to find GVR for %s: %w", p, err)
		}
		c.objs, c.kinds = append(c.objs, objs[0].Obj), append(c.kinds, kind)
	}
	if o.Mode == "recreate" {
		c.live = make([][]string, len(c.objs))
		for k := range c.live {
			c.live[k] = make([]string, o.Number)
		}
	}
	e.churns = append(e.churns, c)
	c.arm()
	return nil
}

func (c *churn) arm() {
	c.event = c.e.s.Clock().Daemon(c.e.s.Clock().Now().Add(c.interval), c.tick)
}

func (c *churn) stop() {
	c.stopped = true
	if c.event != nil {
		c.event.Cancel()
	}
}

func (c *churn) tick() {
	if c.stopped {
		return
	}
	switch c.op.Mode {
	case "create":
		for k := range c.objs {
			c.createOne(k)
		}
		c.count++
		if c.op.Number > 0 && c.count >= c.op.Number {
			return
		}
	case "recreate":
		slot := c.count % c.op.Number
		for k := range c.objs {
			if name := c.live[k][slot]; name != "" {
				c.deleteOne(k, name)
				c.live[k][slot] = ""
			} else {
				c.live[k][slot] = c.createOne(k)
			}
		}
		c.count++
	}
	c.arm()
}

// createOne creates an object from template k in the churn's namespace (when namespaced);
// a failed create is counted, as upstream ignores it.
func (c *churn) createOne(k int) string {
	obj := c.objs[k].DeepCopyObject()
	if c.kinds[k].Namespaced {
		m, _ := meta.Accessor(obj)
		m.SetNamespace(c.ns)
	}
	got, err := c.e.api.Create(obj)
	if err != nil {
		c.failed++
		if len(c.errs) < 3 {
			c.errs = append(c.errs, err.Error())
		}
		return ""
	}
	c.created++
	m, _ := meta.Accessor(got)
	return m.GetName()
}

func (c *churn) deleteOne(k int, name string) {
	ns := ""
	if c.kinds[k].Namespaced {
		ns = c.ns
	}
	if err := c.e.api.Delete(c.kinds[k], ns, name, metav1.DeleteOptions{}); err != nil {
		c.deleteErrs = append(c.deleteErrs, fmt.Sprintf("unable to delete %v: %v", name, err))
		return
	}
	c.deleted++
}

func (c *churn) counts() ChurnSummary {
	s := ChurnSummary{Op: c.opIndex, Ticks: c.count, Created: c.created, Deleted: c.deleted, Refused: c.failed}
	for _, k := range c.kinds {
		s.Kinds = append(s.Kinds, k.Name())
	}
	return s
}

func (c *churn) summary() string {
	kinds := strings.Join(c.counts().Kinds, ", ")
	s := fmt.Sprintf("op %d churn (%s, %s every %s of virtual time): %d ticks, %d objects created, %d deleted",
		c.opIndex, c.op.Mode, kinds, c.interval, c.count, c.created, c.deleted)
	if c.failed > 0 {
		s += fmt.Sprintf(", %d creates refused (as upstream, ignored): %s", c.failed, strings.Join(c.errs, ", "))
	}
	return s
}
