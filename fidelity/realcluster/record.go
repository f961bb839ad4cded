package realcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/kwoksim/kwoksim/fidelity"
	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/trace"
)

// Config says what to record.
type Config struct {
	// Work is the realcluster work directory: WORK/bin holds build.sh's binaries; kwokctl's
	// clusters and the kubeconfig go there too.
	Work string
	// Suite is the fidelity suite's directory (testdata/fidelity).
	Suite string
	// Scenarios names the scenarios to record; empty means all.
	Scenarios []string
	// Repeats, when positive, overrides each scenario's repeats.
	Repeats int
	// Command is the command written into each observed.json, given the scenario's name: the
	// command that records that scenario again.
	Command func(scenario string) string
	// Log gets progress; nil discards it.
	Log io.Writer
}

// Record records each scenario of the suite on a fresh real cluster per repeat and writes its
// observed.json as soon as its repeats are done. A failing scenario does not stop the others:
// the errors are returned together at the end.
func Record(ctx context.Context, c Config) error {
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.Command == nil {
		c.Command = func(s string) string { return "make record-real RECORDARGS='-scenarios " + s + "'" }
	}
	for _, b := range Binaries {
		if _, err := os.Stat(filepath.Join(c.Work, "bin", b)); err != nil {
			return fmt.Errorf("the real control plane is not built (run ../shared/realcluster/build.sh %s ../kwoksim): %w", c.Work, err)
		}
	}
	suite, err := fidelity.LoadSuite(c.Suite)
	if err != nil {
		return err
	}
	chosen, err := choose(suite, c.Scenarios)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range chosen {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := recordScenario(ctx, c, s); err != nil {
			fmt.Fprintf(c.Log, "%s: FAILED: %v\n", s.Name, err)
			errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
		}
	}
	return errors.Join(errs...)
}

// choose picks the named scenarios, in the suite's order.
func choose(suite []*fidelity.Scenario, names []string) ([]*fidelity.Scenario, error) {
	if len(names) == 0 {
		return suite, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []*fidelity.Scenario
	for _, s := range suite {
		if want[s.Name] {
			out = append(out, s)
			delete(want, s.Name)
		}
	}
	for _, n := range names {
		if want[n] {
			return nil, fmt.Errorf("no scenario %q in the suite", n)
		}
	}
	return out, nil
}

func recordScenario(ctx context.Context, c Config, s *fidelity.Scenario) error {
	repeats := s.Repeats
	if c.Repeats > 0 {
		repeats = c.Repeats
	}
	nodes, err := manifest.Load([]string{s.NodesFile()}, manifest.LoadOptions{Kinds: map[string]bool{"Node": true}})
	if err != nil {
		return err
	}
	events, err := trace.ReadFile(s.TraceFile())
	if err != nil {
		return err
	}
	obs := fidelity.Observation{
		Scenario:   s.Name,
		Source:     "real",
		Command:    c.Command(s.Name),
		Versions:   Versions,
		RecordedOn: time.Now().UTC().Format("2006-01-02"),
	}
	for i := 0; i < repeats; i++ {
		start := time.Now()
		fmt.Fprintf(c.Log, "%s: run %d/%d\n", s.Name, i+1, repeats)
		run, err := recordRun(ctx, c, s, nodes, events)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Fprintf(c.Log, "%s: run %d/%d done in %.0f s wall: %d pods, %d workloads, %d nodes, %d HPAs\n",
			s.Name, i+1, repeats, time.Since(start).Seconds(), len(run.Pods), len(run.Workloads), len(run.Nodes), len(run.HPAs))
		obs.Runs = append(obs.Runs, run)
	}
	b, err := json.MarshalIndent(obs, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(s.ObservedFile(), append(b, '\n'), 0o644)
}

// recordRun runs the scenario once on a fresh cluster, deleted afterwards whatever happens.
func recordRun(ctx context.Context, c Config, s *fidelity.Scenario, nodes []manifest.Object, events []*trace.Event) (run fidelity.Run, err error) {
	cl := &cluster{work: c.Work, name: "fidelity", kubeconfig: filepath.Join(c.Work, "fidelity.kubeconfig"), log: c.Log}
	defer func() {
		if derr := cl.stop(); derr != nil && err == nil {
			err = derr
		}
	}()
	if err := cl.start(ctx, s); err != nil {
		return run, err
	}
	cfg, err := restConfig(cl.kubeconfig)
	if err != nil {
		return run, err
	}
	// The recorder is a user with kubectl, not a controller: unthrottled, so that its own
	// client's rate limit never delays an event or a watch.
	cfg.QPS, cfg.Burst = 1000, 2000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return run, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return run, err
	}
	r := &replayer{c: cl, client: client, dyn: dyn, log: c.Log}

	// The nodes, created before t=0, settled before it.
	for _, n := range nodes {
		if err := r.create(ctx, n.Obj); err != nil {
			return run, err
		}
	}
	if err := waitSettled(ctx, client, nodes); err != nil {
		return run, err
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	rec := &recorder{tracker: fidelity.NewTracker(), log: c.Log}
	if err := rec.watch(runCtx, client); err != nil {
		return run, err
	}

	// t=0 is now: the first event (at 0s) is carried out at once.
	for _, ev := range events {
		if err := sleepUntil(runCtx, rec.t0.Add(ev.At)); err != nil {
			return run, err
		}
		fmt.Fprintf(c.Log, "  %6.3f s  %s\n", time.Since(rec.t0).Seconds(), describe(ev))
		if err := r.do(runCtx, ev); err != nil {
			return run, fmt.Errorf("%s at %v: %w", ev.Op, ev.At, err)
		}
	}
	if err := sleepUntil(runCtx, rec.t0.Add(s.Duration.Duration)); err != nil {
		return run, err
	}
	run = rec.stop(s.Duration.Seconds())
	cancel()
	r.background.Wait()
	return run, rec.err()
}

// restConfig reads the kubeconfig with its certificates inlined. kwokctl's kubeconfig names
// them by path, the same path for every cluster of one name, and client-go keys its shared
// TLS transport cache by that path when it reloads files (k8s.io/client-go transport/cache.go,
// tlsConfigKey): the second cluster of a process got the first one's transport and failed
// with "certificate signed by unknown authority". Inline data keys the cache by content.
func restConfig(kubeconfig string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		file *string
		data *[]byte
	}{{&cfg.CAFile, &cfg.CAData}, {&cfg.CertFile, &cfg.CertData}, {&cfg.KeyFile, &cfg.KeyData}} {
		if *f.file == "" {
			continue
		}
		b, err := os.ReadFile(*f.file)
		if err != nil {
			return nil, err
		}
		*f.data, *f.file = b, ""
	}
	return cfg, nil
}

func describe(ev *trace.Event) string {
	switch ev.Op {
	case trace.OpApply:
		var names []string
		for _, o := range ev.Objects {
			m, _ := metaOf(o.Obj)
			names = append(names, o.Obj.GetObjectKind().GroupVersionKind().Kind+"/"+m)
		}
		return "apply " + strings.Join(names, ", ")
	case trace.OpDrain, trace.OpCordon, trace.OpUncordon:
		return string(ev.Op) + " " + ev.Node
	default:
		return string(ev.Op) + " " + ev.Target.String()
	}
}

func metaOf(o runtime.Object) (string, error) {
	if m, ok := o.(metav1.Object); ok {
		return m.GetName(), nil
	}
	return "", errors.New("no metadata")
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitSettled waits until the cluster is what a scenario's t=0 assumes: every node of
// nodes.yaml Ready (kwok's node-initialize stage) and rid of the not-ready taint that the
// TaintNodesByCondition admission plugin puts on a new node, which the controller manager's
// node lifecycle controller removes (pkg/controller/nodelifecycle, doNoScheduleTaintingPass)
// — so the controller manager is running, not still syncing its informers — and the default
// ServiceAccount made by its serviceaccount controller. Without this wait the first run
// measured a 2.2 s delay before the deployment controller's first ReplicaSet: start-up, not
// behaviour.
func waitSettled(ctx context.Context, client kubernetes.Interface, nodes []manifest.Object) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		list, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		settled := map[string]bool{}
		for _, n := range list.Items {
			ready := false
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready = true
				}
			}
			for _, t := range n.Spec.Taints {
				if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
					ready = false
				}
			}
			settled[n.Name] = ready
		}
		var missing []string
		for _, n := range nodes {
			if name, _ := metaOf(n.Obj); !settled[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			_, err := client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
			if err == nil {
				return nil
			}
			missing = append(missing, "ServiceAccount default/default")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not settled after 2m (nodes Ready without the not-ready taint, the default ServiceAccount): %s", strings.Join(missing, ", "))
		}
		if err := sleepUntil(ctx, time.Now().Add(200*time.Millisecond)); err != nil {
			return err
		}
	}
}

// recorder feeds the tracker every watch event at the wall time it is received.
type recorder struct {
	mu      sync.Mutex
	tracker *fidelity.Tracker
	t0      time.Time
	stopped bool
	errs    []error
	log     io.Writer
	wg      sync.WaitGroup
}

// watched are the resources recorded, each listed and then watched from the list's
// resourceVersion in all namespaces.
type watched struct {
	name  string
	list  func(ctx context.Context) ([]runtime.Object, string, error)
	watch func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error)
}

func resources(client kubernetes.Interface) []watched {
	all := metav1.NamespaceAll
	items := func(n int, at func(i int) runtime.Object) []runtime.Object {
		out := make([]runtime.Object, n)
		for i := range out {
			out[i] = at(i)
		}
		return out
	}
	return []watched{
		{"pods", func(ctx context.Context) ([]runtime.Object, string, error) {
			l, err := client.CoreV1().Pods(all).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, "", err
			}
			return items(len(l.Items), func(i int) runtime.Object { return &l.Items[i] }), l.ResourceVersion, nil
		}, client.CoreV1().Pods(all).Watch},
		{"nodes", func(ctx context.Context) ([]runtime.Object, string, error) {
			l, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, "", err
			}
			return items(len(l.Items), func(i int) runtime.Object { return &l.Items[i] }), l.ResourceVersion, nil
		}, client.CoreV1().Nodes().Watch},
		{"deployments", func(ctx context.Context) ([]runtime.Object, string, error) {
			l, err := client.AppsV1().Deployments(all).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, "", err
			}
			return items(len(l.Items), func(i int) runtime.Object { return &l.Items[i] }), l.ResourceVersion, nil
		}, client.AppsV1().Deployments(all).Watch},
		{"replicasets", func(ctx context.Context) ([]runtime.Object, string, error) {
			l, err := client.AppsV1().ReplicaSets(all).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, "", err
			}
			return items(len(l.Items), func(i int) runtime.Object { return &l.Items[i] }), l.ResourceVersion, nil
		}, client.AppsV1().ReplicaSets(all).Watch},
		{"daemonsets", func(ctx context.Context) ([]runtime.Object, string, error) {
			l, err := client.AppsV1().DaemonSets(all).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, "", err
			}
			return items(len(l.Items), func(i int) runtime.Object { return &l.Items[i] }), l.ResourceVersion, nil
		}, client.AppsV1().DaemonSets(all).Watch},
		{"statefulsets", func(ctx context.Context) ([]runtime.Object, string, error) {
			l, err := client.AppsV1().StatefulSets(all).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, "", err
			}
			return items(len(l.Items), func(i int) runtime.Object { return &l.Items[i] }), l.ResourceVersion, nil
		}, client.AppsV1().StatefulSets(all).Watch},
		{"jobs", func(ctx context.Context) ([]runtime.Object, string, error) {
			l, err := client.BatchV1().Jobs(all).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, "", err
			}
			return items(len(l.Items), func(i int) runtime.Object { return &l.Items[i] }), l.ResourceVersion, nil
		}, client.BatchV1().Jobs(all).Watch},
		{"horizontalpodautoscalers", func(ctx context.Context) ([]runtime.Object, string, error) {
			l, err := client.AutoscalingV2().HorizontalPodAutoscalers(all).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, "", err
			}
			return items(len(l.Items), func(i int) runtime.Object { return &l.Items[i] }), l.ResourceVersion, nil
		}, client.AutoscalingV2().HorizontalPodAutoscalers(all).Watch},
		// The HPA controller's events only: the others (the scheduler's, the kubelet's) would
		// be a stream the tracker ignores.
		{"events", func(ctx context.Context) ([]runtime.Object, string, error) {
			l, err := client.CoreV1().Events(all).List(ctx, metav1.ListOptions{FieldSelector: hpaEvents})
			if err != nil {
				return nil, "", err
			}
			return items(len(l.Items), func(i int) runtime.Object { return &l.Items[i] }), l.ResourceVersion, nil
		}, func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = hpaEvents
			return client.CoreV1().Events(all).Watch(ctx, o)
		}},
	}
}

// hpaEvents selects the Events about HorizontalPodAutoscalers.
const hpaEvents = "involvedObject.kind=HorizontalPodAutoscaler"

// watchFunc adapts a typed Watch to client-go's retrying watcher.
type watchFunc func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error)

func (f watchFunc) WatchWithContext(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	return f(ctx, o)
}

// watch lists every resource, starts its watch from the list's resourceVersion, takes t0 and
// records the listed objects as they were at t0.
func (r *recorder) watch(ctx context.Context, client kubernetes.Interface) error {
	type listed struct {
		objs []runtime.Object
	}
	var lists []listed
	var watchers []*watchtools.RetryWatcher
	for _, w := range resources(client) {
		objs, rv, err := w.list(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", w.name, err)
		}
		rw, err := watchtools.NewRetryWatcherWithContext(ctx, rv, watchFunc(w.watch))
		if err != nil {
			return fmt.Errorf("watch %s: %w", w.name, err)
		}
		lists = append(lists, listed{objs})
		watchers = append(watchers, rw)
	}
	r.mu.Lock()
	r.t0 = time.Now()
	for _, l := range lists {
		for _, o := range l.objs {
			r.record(watch.Added, o, 0)
		}
	}
	r.mu.Unlock()
	for _, rw := range watchers {
		r.wg.Add(1)
		go func(rw *watchtools.RetryWatcher) {
			defer r.wg.Done()
			defer rw.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-rw.ResultChan():
					if !ok {
						return
					}
					r.mu.Lock()
					if !r.stopped {
						// The time is taken under the lock, so recorded times never go back.
						sec := time.Since(r.t0).Seconds()
						switch ev.Type {
						case watch.Added, watch.Modified, watch.Deleted:
							r.record(ev.Type, ev.Object, sec)
						case watch.Error:
							r.errs = append(r.errs, fmt.Errorf("watch error at %.3f s: %v", sec, ev.Object))
						}
					}
					r.mu.Unlock()
				}
			}
		}(rw)
	}
	return nil
}

// record hands one object to the tracker; r.mu is held.
func (r *recorder) record(t watch.EventType, o runtime.Object, sec float64) {
	switch o := o.(type) {
	case *corev1.Pod:
		r.tracker.Pod(t, o, sec)
	case *corev1.Node:
		r.tracker.Node(t, o, sec)
	case *appsv1.Deployment, *appsv1.ReplicaSet, *appsv1.StatefulSet, *appsv1.DaemonSet, *batchv1.Job:
		if err := r.tracker.Workload(t, o.(metav1.Object), sec); err != nil {
			r.errs = append(r.errs, err)
		}
	case *autoscalingv2.HorizontalPodAutoscaler:
		r.tracker.HPA(t, o, sec)
	case *corev1.Event:
		r.tracker.Event(t, o, sec)
	default:
		r.errs = append(r.errs, fmt.Errorf("unexpected %T in a watch", o))
	}
}

// stop ends the recording: later events are ignored.
func (r *recorder) stop(duration float64) fidelity.Run {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	return r.tracker.Run(duration)
}

func (r *recorder) err() error {
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}
