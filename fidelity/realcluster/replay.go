package realcluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/trace"
)

// fieldManager names the recorder's writes in managedFields.
const fieldManager = "kwoksim-recorder"

// replayer carries out trace events on the real cluster, as a user would with kubectl.
type replayer struct {
	c          *cluster
	client     kubernetes.Interface
	dyn        dynamic.Interface
	log        io.Writer
	background sync.WaitGroup // drains, which run for as long as kubectl drain does
}

// resource is the REST resource of a kind in namespace ns (ignored for a cluster-scoped kind),
// as kwoksim's simulated apiserver serves it (sim.KindNamed): both sides agree on what a kind
// in a trace means, and no discovery is needed. version, when given, is the object's own.
func (r *replayer) resource(kind, version, ns string) (dynamic.ResourceInterface, error) {
	k, err := sim.KindNamed(kind)
	if err != nil {
		return nil, err
	}
	gvr := k.GVR
	if version != "" {
		gvr.Version = version
	}
	if !k.Namespaced {
		return r.dyn.Resource(gvr), nil
	}
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	return r.dyn.Resource(gvr).Namespace(ns), nil
}

func (r *replayer) kindResource(ref trace.ObjectRef) (dynamic.ResourceInterface, error) {
	return r.resource(ref.Kind, "", ref.Namespace)
}

// create creates an object, or, when it exists, server-side applies it (kubectl apply
// --server-side), so a trace's "apply" means on the real cluster what it means to a user.
func (r *replayer) create(ctx context.Context, obj runtime.Object) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: m}
	res, err := r.resource(u.GetKind(), u.GroupVersionKind().Version, u.GetNamespace())
	if err != nil {
		return err
	}
	_, err = res.Create(ctx, u, metav1.CreateOptions{FieldManager: fieldManager})
	if apierrors.IsAlreadyExists(err) {
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		_, err = res.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
	}
	if err != nil {
		return fmt.Errorf("apply %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

// do carries out one event. A drain runs in the background (kubectl drain blocks until the
// node is empty or its timeout), so that the events after it keep their times.
func (r *replayer) do(ctx context.Context, ev *trace.Event) error {
	switch ev.Op {
	case trace.OpApply:
		for _, o := range ev.Objects {
			if err := r.create(ctx, o.Obj); err != nil {
				return err
			}
		}
		return nil
	case trace.OpDelete:
		res, err := r.kindResource(ev.Target)
		if err != nil {
			return err
		}
		return res.Delete(ctx, ev.Target.Name, metav1.DeleteOptions{GracePeriodSeconds: ev.GracePeriodSeconds})
	case trace.OpScale:
		res, err := r.kindResource(ev.Target)
		if err != nil {
			return err
		}
		p := fmt.Sprintf(`{"spec":{"replicas":%d}}`, ev.Replicas)
		_, err = res.Patch(ctx, ev.Target.Name, types.MergePatchType, []byte(p), metav1.PatchOptions{FieldManager: fieldManager}, "scale")
		return err
	case trace.OpPatch:
		res, err := r.kindResource(ev.Target)
		if err != nil {
			return err
		}
		_, err = res.Patch(ctx, ev.Target.Name, ev.PatchType, ev.Patch, metav1.PatchOptions{FieldManager: fieldManager})
		return err
	case trace.OpCordon, trace.OpUncordon:
		// As kubectl cordon does (k8s.io/kubectl pkg/drain/cordon.go, PatchOrReplaceWithContext):
		// a strategic merge patch of spec.unschedulable.
		p := fmt.Sprintf(`{"spec":{"unschedulable":%t}}`, ev.Op == trace.OpCordon)
		_, err := r.client.CoreV1().Nodes().Patch(ctx, ev.Node, types.StrategicMergePatchType, []byte(p), metav1.PatchOptions{FieldManager: fieldManager})
		return err
	case trace.OpEvict:
		return r.client.PolicyV1().Evictions(ev.Target.Namespace).Evict(ctx, &policyv1.Eviction{
			ObjectMeta:    metav1.ObjectMeta{Namespace: ev.Target.Namespace, Name: ev.Target.Name},
			DeleteOptions: &metav1.DeleteOptions{GracePeriodSeconds: ev.GracePeriodSeconds},
		})
	case trace.OpDrain:
		args := drainArgs(ev, r.c.kubeconfig)
		r.background.Add(1)
		go func() {
			defer r.background.Done()
			cmd := exec.CommandContext(ctx, r.c.bin("kubectl"), args...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			fmt.Fprintf(r.log, "    kubectl %s: %v\n%s", strings.Join(args, " "), errOr(err, "done"), indent(out.String()))
		}()
		return nil
	default:
		return fmt.Errorf("%s at %v: the %q operation is kwoksim's own and has no real-cluster counterpart", ev.Source, ev.At, ev.Op)
	}
}

// drainArgs is the kubectl drain command line of a drain event, its options spelled as
// kubectl's flags.
func drainArgs(ev *trace.Event, kubeconfig string) []string {
	d := ev.Drain
	args := []string{"--kubeconfig", kubeconfig, "drain", ev.Node, "--timeout=" + d.Timeout.String()}
	if d.IgnoreDaemonSets {
		args = append(args, "--ignore-daemonsets")
	}
	if d.DeleteEmptyDirData {
		args = append(args, "--delete-emptydir-data")
	}
	if d.Force {
		args = append(args, "--force")
	}
	if d.GracePeriodSeconds != nil {
		args = append(args, "--grace-period="+strconv.FormatInt(*d.GracePeriodSeconds, 10))
	}
	if d.PodSelector != "" {
		args = append(args, "--pod-selector="+d.PodSelector)
	}
	if d.SkipWaitForDeleteTimeoutSeconds > 0 {
		args = append(args, "--skip-wait-for-delete-timeout="+strconv.Itoa(d.SkipWaitForDeleteTimeoutSeconds))
	}
	return args
}

func errOr(err error, ok string) string {
	if err != nil {
		return err.Error()
	}
	return ok
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "      " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n      ") + "\n"
}
