// Package dradriver is kwoksim's simulated DRA driver: for every node with the
// kwoksim.io/devices annotation (workloads/devices) it publishes the node's ResourceSlices,
// as a real driver's kubelet plugin publishes them through
// k8s.io/dynamic-resource-allocation/resourceslice once the plugin runs on the node.
//
// When: a node created with the annotation (an input node, a node a node autoscaler adds
// from its pool's template, a node a trace applies) has its slices at the same virtual
// instant, in a sync the driver queues on the clock (a Watcher never writes); a change of the
// annotation republishes them (slices updated, created, or deleted when a driver or device
// set goes), and removing it deletes them. Deleting the node deletes its slices through the
// garbage collector (workloads/manager/gc.go), which follows their ownerReference to the
// Node, as in a real cluster.
//
// Deliberate deviations: the plugin's start-up and publishing delays are not modelled (see
// the README's "Devices (DRA)" for a stage that delays the annotation instead); the pool's
// generation stays 0, because the driver rewrites a pool within one event, so no reader ever
// sees it half-written, which is what upstream's generation bump guards against; a slice's
// name is derived rather than generated (see workloads/devices). No DeviceClass is created:
// a class is the cluster administrator's (or the driver's Helm chart's) choice of selectors
// and configuration, so it is an input, as upstream drivers ship it apart from the plugin.
//
// A value that cannot be parsed (only possible through a trace's patch or a stage, since
// inputs are checked when loaded) publishes nothing new and leaves a warning on the Node
// (reason FailedToPublishDevices).
package dradriver

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/devices"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// kind is the name the driver registers under: it owns no kind, so it takes a name no kind
// has (the manager routes an object's changes to the controller of its Kind()).
const kind = "kwoksim/dra-driver"

// Driver publishes the ResourceSlices of annotated nodes.
type Driver struct {
	m      *manager.Manager
	queue  *manager.Queue
	nodes  *sim.Kind
	slices *sim.Kind
	// published indexes the slices the driver wrote (by their derived names), by node, as
	// the watch delivers them: a sync finds the slices to delete without a List.
	published map[string]map[string]bool
}

// New registers the driver with the manager.
func New(m *manager.Manager) *Driver {
	nodes, _ := sim.KindNamed("Node")
	sliceKind, _ := sim.KindNamed("ResourceSlice")
	d := &Driver{m: m, nodes: nodes, slices: sliceKind, published: map[string]map[string]bool{}}
	d.queue = m.Register(d)
	return d
}

// Kind is the driver's registration name.
func (d *Driver) Kind() string { return kind }

// Observe queues a sync of a node whose annotation appeared, changed or went, and keeps the
// index of published slices.
func (d *Driver) Observe(ev sim.WatchEvent) {
	switch o := ev.Object.(type) {
	case *corev1.Node:
		if ev.Type == watch.Deleted {
			return // the garbage collector deletes its slices
		}
		v, ok := o.Annotations[devices.Annotation]
		if ev.Type == watch.Modified {
			ov, had := ev.Old.(*corev1.Node).Annotations[devices.Annotation]
			if ok == had && v == ov {
				return
			}
		} else if !ok {
			return
		}
		d.queue.Add("", o.Name)
	case *resourcev1.ResourceSlice:
		node, ok := publisher(o)
		if !ok {
			return
		}
		if ev.Type == watch.Deleted {
			delete(d.published[node], o.Name)
			if len(d.published[node]) == 0 {
				delete(d.published, node)
			}
			return
		}
		if d.published[node] == nil {
			d.published[node] = map[string]bool{}
		}
		d.published[node][o.Name] = true
	}
}

// publisher is the node whose slice this is when the driver wrote it: the slice is
// controlled by that Node and named as the driver names its slices. Slices from elsewhere
// (a real driver's, in a snapshot) are left alone.
func publisher(s *resourcev1.ResourceSlice) (string, bool) {
	ref := metav1.GetControllerOfNoCopy(s)
	if ref == nil || ref.Kind != "Node" || ref.APIVersion != "v1" || len(s.Name) < 5 {
		return "", false
	}
	i, err := strconv.ParseUint(s.Name[:5], 16, 32)
	if err != nil || s.Name != devices.SliceName(s.Spec.Driver, ref.Name, int(i)) {
		return "", false
	}
	return ref.Name, true
}

// Sync publishes the node's slices as its annotation describes them, and deletes the
// driver's other slices of the node.
func (d *Driver) Sync(_, name string) error {
	obj, err := d.m.API().Get(d.nodes, "", name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	node := obj.(*corev1.Node)
	if node.DeletionTimestamp != nil {
		return nil
	}
	sets, err := devices.Parse(node.Annotations[devices.Annotation])
	if err != nil {
		d.m.Warn("Node", "", name, "FailedToPublishDevices", fmt.Sprintf("metadata.annotations[%q]%s", devices.Annotation, pathed(err)))
		return nil
	}
	want := map[string]bool{}
	for _, s := range devices.Slices(devices.Node{Name: node.Name, UID: node.UID}, sets) {
		want[s.Name] = true
		if err := d.publish(s); err != nil {
			return err
		}
	}
	for _, n := range slices.Sorted(maps.Keys(d.published[name])) { // in the same order on every run
		if want[n] {
			continue
		}
		if err := d.m.API().Delete(d.slices, "", n, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// publish creates the slice, or updates the stored one when it differs.
func (d *Driver) publish(s *resourcev1.ResourceSlice) error {
	obj, err := d.m.API().Get(d.slices, "", s.Name)
	if apierrors.IsNotFound(err) {
		_, err = d.m.API().Create(s)
		return err
	}
	if err != nil {
		return err
	}
	cur := obj.(*resourcev1.ResourceSlice)
	if equality.Semantic.DeepEqual(cur.Spec, s.Spec) && equality.Semantic.DeepEqual(cur.OwnerReferences, s.OwnerReferences) {
		return nil
	}
	cur.Spec, cur.OwnerReferences = s.Spec, s.OwnerReferences
	_, err = d.m.API().Update(cur)
	return err
}

// pathed puts a parse error after the annotation's field path: "[0].count: …" directly,
// a message about the whole value after ": ".
func pathed(err error) string {
	if e, ok := err.(*devices.Error); ok && e.Path != "" {
		return e.Error()
	}
	return ": " + err.Error()
}
