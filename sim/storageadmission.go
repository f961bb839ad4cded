package sim

import (
	"context"
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/informers"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	core "k8s.io/kubernetes/pkg/apis/core"
	corehelper "k8s.io/kubernetes/pkg/apis/core/helper"
)

// The storage protection finalizers (k8s.io/kubernetes/pkg/volume/util: PVCProtectionFinalizer,
// PVProtectionFinalizer). That package, and the real admission plugins that import it, pull in
// mount and SELinux libraries a simulator has no use for, so the two plugins are re-implemented
// here, line for line.
const (
	PVCProtectionFinalizer = "kubernetes.io/pvc-protection"
	PVProtectionFinalizer  = "kubernetes.io/pv-protection"
	// IsDefaultStorageClassAnnotation and its beta form mark a default StorageClass
	// (pkg/volume/util/storageclass.go).
	IsDefaultStorageClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	BetaIsDefaultStorageClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

// storageAdmission is kube-apiserver's two storage admission plugins, in the order of
// AllOrderedPlugins (after DefaultTolerationSeconds), both on creates only:
//
//   - DefaultStorageClass (plugin/pkg/admission/storage/storageclass/setdefault,
//     claimDefaulterPlugin.Admit): a claim created with spec.storageClassName unset (nil; ""
//     asks for no class) gets the default class, the newest of those annotated
//     storageclass.kubernetes.io/is-default-class=true (GetDefaultStorageClass), read through
//     the synchronous StorageClass informer. No default class: the claim is left alone.
//   - StorageObjectInUseProtection (storageobjectinuseprotection, Admit): every new claim gets
//     the kubernetes.io/pvc-protection finalizer and every new PersistentVolume
//     kubernetes.io/pv-protection. The pvc-protection and pv-protection controllers
//     (workloads/persistentvolume) remove them once the object is no longer used; without them
//     a deleted claim or volume stays Terminating for ever, as on a cluster without
//     kube-controller-manager.
type storageAdmission struct {
	classes storagelisters.StorageClassLister
}

func newStorageAdmission(f informers.SharedInformerFactory) *storageAdmission {
	return &storageAdmission{classes: f.Storage().V1().StorageClasses().Lister()}
}

// admit runs DefaultStorageClass (defaultClass) and StorageObjectInUseProtection (protect).
func (s *storageAdmission) admit(_ context.Context, attrs admission.Attributes, defaultClass, protect bool) error {
	if s == nil || attrs.GetOperation() != admission.Create || attrs.GetSubresource() != "" {
		return nil
	}
	switch obj := attrs.GetObject().(type) {
	case *core.PersistentVolumeClaim:
		if defaultClass && !corehelper.PersistentVolumeClaimHasClass(obj) {
			def, err := GetDefaultStorageClass(s.classes)
			if err != nil {
				return admission.NewForbidden(attrs, err)
			}
			if def != "" {
				obj.Spec.StorageClassName = &def
			}
		}
		if protect && !slices.Contains(obj.Finalizers, PVCProtectionFinalizer) {
			obj.Finalizers = append(obj.Finalizers, PVCProtectionFinalizer)
		}
	case *core.PersistentVolume:
		if protect && !slices.Contains(obj.Finalizers, PVProtectionFinalizer) {
			obj.Finalizers = append(obj.Finalizers, PVProtectionFinalizer)
		}
	}
	return nil
}

// GetDefaultStorageClass is util.GetDefaultClass (pkg/volume/util/storageclass.go): the name of
// the newest StorageClass annotated as default (by creation time, then by name), or "" when
// none is.
func GetDefaultStorageClass(lister storagelisters.StorageClassLister) (string, error) {
	list, err := lister.List(labels.Everything())
	if err != nil {
		return "", err
	}
	type class struct {
		name    string
		created int64
	}
	var defaults []class
	for _, c := range list {
		if c.Annotations[IsDefaultStorageClassAnnotation] == "true" || c.Annotations[BetaIsDefaultStorageClassAnnotation] == "true" {
			defaults = append(defaults, class{c.Name, c.CreationTimestamp.UnixNano()})
		}
	}
	if len(defaults) == 0 {
		return "", nil
	}
	sort.Slice(defaults, func(i, j int) bool {
		if defaults[i].created == defaults[j].created {
			return defaults[i].name < defaults[j].name
		}
		return defaults[i].created > defaults[j].created
	})
	return defaults[0].name, nil
}
