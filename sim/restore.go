package sim

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
)

// IsStored reports whether an object is stored state rather than a request: it carries
// metadata.uid, which only the apiserver assigns, so it comes from a dump of a cluster
// (kubectl get -o yaml) or from --state-out, never from a hand-written manifest.
func IsStored(obj runtime.Object) bool {
	m, err := meta.Accessor(obj)
	return err == nil && m.GetUID() != ""
}

// RestoreError is an object of a snapshot the simulated apiserver refused: Index is its
// position in the slice given to Restore.
type RestoreError struct {
	Index int
	Err   error
}

func (e *RestoreError) Error() string { return e.Err.Error() }

func (e *RestoreError) Unwrap() error { return e.Err }

// Restore loads objects as the cluster's stored state, before anything else happens: what a
// cluster at rest is made of, as a dump of it shows it. Unlike Create, which is a request,
// each object keeps its UID, ownerReferences, labels, annotations, generation, status and
// spec.nodeName; it is defaulted and validated as kube-apiserver did when it stored it (spec
// and metadata by rest.BeforeCreate with the create strategy, k8s.io/apiserver's
// pkg/registry/rest/create.go; status by the status strategy's ValidateUpdate, as the write of
// its controller or kubelet was), and gets a resourceVersion of the simulator's. What a dump
// carries that the simulator must not trust (resourceVersion, managedFields, selfLink) is
// dropped.
//
// The dump's times are wall times. They move, all by one offset, so that the latest time any
// object carries (deletionTimestamps aside: they lie ahead by a grace period) is the current
// virtual time: their order and distances are kept, and nothing restored is in the future (a
// stage whose delay is computed from a timestamp would otherwise wait for a dump taken after
// sim.Epoch to come true). The Added events Restore delivers are
// marked Restored, so the recorder counts those pods as bound and Running from the start but
// not as created by the run.
//
// Every object is loaded before any reaction to them runs: Watchers only schedule work on the
// clock, so a controller (the garbage collector included) sees the whole snapshot, whatever
// its order, as the real ones see a cluster through their informers.
func (a *API) Restore(objs []runtime.Object) error {
	if a.watching.Load() {
		return a.watcherWrote("Restore", kinds["Namespace"], "", "")
	}
	shift := restoreShift(objs, a.clock.Now())
	a.mu.Lock()
	defer a.mu.Unlock()
	a.wallShift.Store(int64(shift))
	a.restoring = true
	defer func() { a.restoring = false }()
	for _, i := range restoreOrder(objs) {
		if err := a.restore(objs[i], shift); err != nil {
			return &RestoreError{Index: i, Err: err}
		}
	}
	return nil
}

// WallShift is how far Restore moved the snapshot's times onto the virtual clock (virtual =
// wall + shift); zero without a snapshot. What reads the wall clock of the cluster the
// snapshot came from, rather than durations (cron schedules), undoes it.
func (a *API) WallShift() time.Duration {
	return time.Duration(a.wallShift.Load())
}

// restoreOrder is the order objects are restored in: namespaces and PriorityClasses, then
// nodes, then everything else, each in input order. Nodes come before pods as a cluster's
// nodes exist before the pods bound to them: the stage runner manages the pods of nodes it
// knows, as KWOK takes over the pods of the nodes it fakes when it starts.
func restoreOrder(objs []runtime.Object) []int {
	rank := func(obj runtime.Object) int {
		k, err := KindOf(obj)
		switch {
		case err != nil:
			return 2 // refused when its turn comes
		case k.Name() == "Namespace" || k.Name() == "PriorityClass":
			return 0
		case k.Name() == "Node":
			return 1
		}
		return 2
	}
	order := make([]int, 0, len(objs))
	for r := 0; r <= 2; r++ {
		for i, obj := range objs {
			if rank(obj) == r {
				order = append(order, i)
			}
		}
	}
	return order
}

func (a *API) restore(in runtime.Object, shift time.Duration) error {
	k, err := KindOf(in)
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	obj, err := shiftTimes(k, in, shift)
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	m, _ := meta.Accessor(obj)
	if !k.Namespaced {
		m.SetNamespace("")
	} else if m.GetNamespace() == "" {
		m.SetNamespace(metav1.NamespaceDefault)
	}
	ns := m.GetNamespace()
	if m.GetName() == "" {
		return apierrors.NewInvalid(k.GVK.GroupKind(), "", field.ErrorList{
			field.Required(field.NewPath("metadata", "name"), "a stored object has a name")})
	}
	if k.Namespaced {
		if err := a.ensureNamespace(ns); err != nil {
			return err
		}
	}
	legacyscheme.Scheme.Default(obj)
	m.SetResourceVersion("")
	m.SetManagedFields(nil)
	m.SetSelfLink("")
	if ts := m.GetCreationTimestamp(); ts.IsZero() {
		m.SetCreationTimestamp(metaTime(a.clock.Now()))
	}

	stored := k.newInternal()
	if err := legacyscheme.Scheme.Convert(obj, stored, nil); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	// The create strategy validates spec and metadata as kube-apiserver did on the create
	// that made the object, but it also resets what the cluster has since written (status,
	// generation): it runs on a copy, and those are put back from the dump.
	internal := stored.DeepCopyObject()
	ctx := a.requestContext(k, "create", ns, m.GetName(), "")
	if err := rest.BeforeCreate(k.strategy, ctx, internal); err != nil {
		return err
	}
	// What the create stored, before the object's controllers wrote its status.
	created := internal.DeepCopyObject()
	im, _ := meta.Accessor(internal)
	im.SetGeneration(m.GetGeneration())
	im.SetDeletionTimestamp(m.GetDeletionTimestamp())
	im.SetDeletionGracePeriodSeconds(m.GetDeletionGracePeriodSeconds())
	im.SetFinalizers(m.GetFinalizers())
	restoreStatus(internal, stored)
	if k.status != nil {
		// The status as the status subresource would have accepted it from the object's
		// controller (the kubelet for a pod).
		// (An update names the version it replaces: the one the create stored.)
		im.SetResourceVersion("1")
		cm, _ := meta.Accessor(created)
		cm.SetResourceVersion("1")
		errs := k.status.ValidateUpdate(a.requestContext(k, "update", ns, m.GetName(), "status"), internal, created)
		im.SetResourceVersion("")
		if len(errs) > 0 {
			return apierrors.NewInvalid(k.GVK.GroupKind(), m.GetName(), errs)
		}
	}
	out, err := a.external(k, internal)
	if err != nil {
		return err
	}
	cur, err := a.tracker.Get(k.GVR, ns, m.GetName())
	switch {
	case err == nil && (k.Name() == "Namespace" || k.Name() == "PriorityClass"):
		// A namespace created for an object restored before it, or a system PriorityClass the
		// simulator bootstrapped: the dump's version replaces it.
		return a.store(k, cur, out)
	case err == nil:
		return apierrors.NewAlreadyExists(k.GVR.GroupResource(), m.GetName())
	}
	return a.store(k, nil, out)
}

// restoreStatus copies the Status field of from into to (both internal objects of one kind);
// kinds without one (PriorityClass) are left alone.
func restoreStatus(to, from runtime.Object) {
	dst := reflect.ValueOf(to).Elem().FieldByName("Status")
	src := reflect.ValueOf(from).Elem().FieldByName("Status")
	if dst.IsValid() && src.IsValid() && dst.CanSet() {
		dst.Set(src)
	}
}

// restoreShift is the offset that moves the latest time the objects carry to now.
func restoreShift(objs []runtime.Object, now time.Time) time.Duration {
	var latest time.Time
	for _, obj := range objs {
		data, err := json.Marshal(obj)
		if err != nil {
			continue
		}
		var v any
		if json.Unmarshal(data, &v) != nil {
			continue
		}
		walkTimes(v, "", func(key string, t time.Time) (time.Time, bool) {
			// A deletionTimestamp lies a grace period ahead of when it was written.
			if key != "deletionTimestamp" && t.After(latest) {
				latest = t
			}
			return t, false
		})
	}
	if latest.IsZero() {
		return 0
	}
	return now.Sub(latest)
}

// shiftTimes returns a copy of obj with every time it carries moved by shift.
func shiftTimes(k *Kind, obj runtime.Object, shift time.Duration) (runtime.Object, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	if root, ok := v.(map[string]any); ok {
		if md, ok := root["metadata"].(map[string]any); ok {
			delete(md, "managedFields") // its times are of no use, and it is dropped anyway
		}
	}
	walkTimes(v, "", func(_ string, t time.Time) (time.Time, bool) { return t.Add(shift), true })
	if data, err = json.Marshal(v); err != nil {
		return nil, err
	}
	out, err := legacyscheme.Scheme.New(k.GVK)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return nil, err
	}
	return out, nil
}

// walkTimes calls fn on every time in a decoded JSON object, replacing it when fn says so. A
// time is an RFC 3339 string under a key named as the API names its metav1.Time fields
// (creationTimestamp, lastTransitionTime, startedAt…); labels and annotations are the users'
// and are left alone.
func walkTimes(v any, key string, fn func(key string, t time.Time) (time.Time, bool)) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "labels" || k == "annotations" || k == "managedFields" {
				continue
			}
			x[k] = walkTimes(e, k, fn)
		}
	case []any:
		for i, e := range x {
			x[i] = walkTimes(e, key, fn)
		}
	case string:
		if !isTimeKey(key) {
			return x
		}
		t, err := time.Parse(time.RFC3339, x)
		if err != nil {
			return x
		}
		if nt, ok := fn(key, t); ok {
			return nt.UTC().Format(time.RFC3339)
		}
	}
	return v
}

func isTimeKey(k string) bool {
	return strings.HasSuffix(k, "Time") || strings.HasSuffix(k, "Timestamp") || strings.HasSuffix(k, "At")
}
