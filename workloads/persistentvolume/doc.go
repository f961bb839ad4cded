// Package persistentvolume is kube-controller-manager's storage side on virtual time: the
// PersistentVolume controller (binding claims to volumes, asking external provisioners for
// volumes, releasing volumes whose claims are gone) and the pvc-protection and pv-protection
// controllers (removing the finalizers admission adds once a claim or volume is unused).
package persistentvolume
