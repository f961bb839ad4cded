package sim

import (
	"strings"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func service(name string, typ corev1.ServiceType, mutate ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Type:     typ,
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
	for _, m := range mutate {
		m(s)
	}
	return s
}

func createService(t *testing.T, s *Simulator, svc *corev1.Service) *corev1.Service {
	t.Helper()
	out, err := s.API().Create(svc)
	if err != nil {
		t.Fatalf("create %s: %v", svc.Name, err)
	}
	return out.(*corev1.Service)
}

// Every Service type loads, with what kube-apiserver's allocators would give it on a
// single-stack IPv4 cluster (pkg/registry/core/service/storage/alloc.go), taken in order from
// the dynamic bands: 10.96.1.1 is 256 addresses above 10.96.0.1, 30086 is 2768/32 ports above
// 30000.
func TestServicesOfEveryTypeGetWhatTheAllocatorsGive(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	cip := createService(t, s, service("cip", ""))
	if cip.Spec.Type != corev1.ServiceTypeClusterIP || cip.Spec.ClusterIP != "10.96.1.1" ||
		len(cip.Spec.ClusterIPs) != 1 || cip.Spec.ClusterIPs[0] != "10.96.1.1" {
		t.Errorf("ClusterIP service: type %q clusterIP %q clusterIPs %v", cip.Spec.Type, cip.Spec.ClusterIP, cip.Spec.ClusterIPs)
	}
	if len(cip.Spec.IPFamilies) != 1 || cip.Spec.IPFamilies[0] != corev1.IPv4Protocol ||
		cip.Spec.IPFamilyPolicy == nil || *cip.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack {
		t.Errorf("ClusterIP service: families %v policy %v", cip.Spec.IPFamilies, cip.Spec.IPFamilyPolicy)
	}
	np := createService(t, s, service("np", corev1.ServiceTypeNodePort))
	if np.Spec.ClusterIP != "10.96.1.2" || np.Spec.Ports[0].NodePort != 30086 {
		t.Errorf("NodePort service: clusterIP %q nodePort %d", np.Spec.ClusterIP, np.Spec.Ports[0].NodePort)
	}
	lb := createService(t, s, service("lb", corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	}))
	if lb.Spec.ClusterIP != "10.96.1.3" || lb.Spec.Ports[0].NodePort != 30087 || lb.Spec.HealthCheckNodePort != 30088 {
		t.Errorf("LoadBalancer service: clusterIP %q nodePort %d healthCheckNodePort %d",
			lb.Spec.ClusterIP, lb.Spec.Ports[0].NodePort, lb.Spec.HealthCheckNodePort)
	}
	headless := createService(t, s, service("headless", "", func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone }))
	if headless.Spec.ClusterIP != corev1.ClusterIPNone || len(headless.Spec.ClusterIPs) != 1 || headless.Spec.ClusterIPs[0] != corev1.ClusterIPNone {
		t.Errorf("headless service: clusterIP %q clusterIPs %v", headless.Spec.ClusterIP, headless.Spec.ClusterIPs)
	}
	// Headless and selectorless: RequireDualStack with both families, even on a single stack.
	bare := createService(t, s, service("bare", "", func(s *corev1.Service) {
		s.Spec.ClusterIP = corev1.ClusterIPNone
		s.Spec.Selector = nil
	}))
	if len(bare.Spec.IPFamilies) != 2 || *bare.Spec.IPFamilyPolicy != corev1.IPFamilyPolicyRequireDualStack {
		t.Errorf("headless selectorless service: families %v policy %v", bare.Spec.IPFamilies, *bare.Spec.IPFamilyPolicy)
	}
	ext := createService(t, s, service("ext", corev1.ServiceTypeExternalName, func(s *corev1.Service) {
		s.Spec.ExternalName = "db.example.com"
		s.Spec.Selector = nil
	}))
	if ext.Spec.ClusterIP != "" || len(ext.Spec.ClusterIPs) != 0 || len(ext.Spec.IPFamilies) != 0 {
		t.Errorf("ExternalName service: clusterIP %q clusterIPs %v families %v", ext.Spec.ClusterIP, ext.Spec.ClusterIPs, ext.Spec.IPFamilies)
	}
	// A requested IP and node port are kept, and the next allocation steps over them.
	fixed := createService(t, s, service("fixed", corev1.ServiceTypeNodePort, func(s *corev1.Service) {
		s.Spec.ClusterIP = "10.96.1.4"
		s.Spec.Ports[0].NodePort = 30089
	}))
	if fixed.Spec.ClusterIP != "10.96.1.4" || fixed.Spec.Ports[0].NodePort != 30089 {
		t.Errorf("requested values: clusterIP %q nodePort %d", fixed.Spec.ClusterIP, fixed.Spec.Ports[0].NodePort)
	}
	next := createService(t, s, service("next", corev1.ServiceTypeNodePort))
	if next.Spec.ClusterIP != "10.96.1.5" || next.Spec.Ports[0].NodePort != 30090 {
		t.Errorf("after requested values: clusterIP %q nodePort %d", next.Spec.ClusterIP, next.Spec.Ports[0].NodePort)
	}
}

func TestServiceAllocationErrors(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	createService(t, s, service("a", corev1.ServiceTypeNodePort, func(s *corev1.Service) {
		s.Spec.ClusterIP = "10.96.0.10"
		s.Spec.Ports[0].NodePort = 30000
	}))
	for _, tc := range []struct {
		name string
		svc  *corev1.Service
		want string
	}{
		{"IP taken", service("b", "", func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.10" }),
			`spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated`},
		{"IP out of range", service("c", "", func(s *corev1.Service) { s.Spec.ClusterIP = "192.168.0.1" }),
			"the provided IP (192.168.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12"},
		{"node port taken", service("d", corev1.ServiceTypeNodePort, func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30000 }),
			"spec.ports[0].nodePort: Invalid value: 30000: provided port is already allocated"},
		{"node port out of range", service("e", corev1.ServiceTypeNodePort, func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 80 }),
			"provided port is not in the valid range. The range of valid ports is 30000-32767"},
		{"dual stack required", service("f", "", func(s *corev1.Service) {
			s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
		}), "this cluster is not configured for dual-stack services"},
		{"IPv6 requested", service("g", "", func(s *corev1.Service) { s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol} }),
			"spec.ipFamilies[0]: Invalid value: \"IPv6\": not configured on this cluster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.API().Create(tc.svc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// Re-applying a manifest without the allocated values keeps them (patchAllocatedValues); a
// type change allocates what the new type needs; a deleted Service frees what it held.
func TestServiceUpdateKeepsAndFreesAllocations(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	first := createService(t, s, service("web", corev1.ServiceTypeNodePort))
	// A merge patch replaces the list of ports: the new one names no node port.
	out, err := s.API().Patch(kinds["Service"], "default", "web", types.MergePatchType,
		[]byte(`{"spec":{"ports":[{"name":"http","port":8080}]}}`), "")
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*corev1.Service)
	if got.Spec.ClusterIP != first.Spec.ClusterIP || got.Spec.Ports[0].NodePort != first.Spec.Ports[0].NodePort || got.Spec.Ports[0].Port != 8080 {
		t.Errorf("re-applied: clusterIP %q nodePort %d port %d, want %q %d 8080",
			got.Spec.ClusterIP, got.Spec.Ports[0].NodePort, got.Spec.Ports[0].Port, first.Spec.ClusterIP, first.Spec.Ports[0].NodePort)
	}
	ext := createService(t, s, service("ext", corev1.ServiceTypeExternalName, func(s *corev1.Service) {
		s.Spec.ExternalName = "db.example.com"
	}))
	ext.Spec.Type = corev1.ServiceTypeNodePort
	ext.Spec.ExternalName = ""
	out, err = s.API().Update(ext)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(*corev1.Service); got.Spec.ClusterIP != "10.96.1.2" || got.Spec.Ports[0].NodePort != 30087 {
		t.Errorf("ExternalName to NodePort: clusterIP %q nodePort %d", got.Spec.ClusterIP, got.Spec.Ports[0].NodePort)
	}
	if err := s.API().Delete(kinds["Service"], "default", "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	reuse := createService(t, s, service("reuse", corev1.ServiceTypeNodePort))
	if reuse.Spec.ClusterIP != first.Spec.ClusterIP || reuse.Spec.Ports[0].NodePort != first.Spec.Ports[0].NodePort {
		t.Errorf("after delete: clusterIP %q nodePort %d, want the freed %q %d",
			reuse.Spec.ClusterIP, reuse.Spec.Ports[0].NodePort, first.Spec.ClusterIP, first.Spec.Ports[0].NodePort)
	}
}

// The other kinds are stored through their real strategies: a PodDisruptionBudget's status is
// cleared on create, an autoscaling/v1 HPA is converted and stored as autoscaling/v2.
func TestPolicyStorageAndAutoscalingKindsAreServed(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	objs := []runtime.Object{
		&policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: "pdb"},
			Spec: policyv1.PodDisruptionBudgetSpec{
				MinAvailable: ptr.To(intstr.FromInt32(1)),
				Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "a"}},
			},
			Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 5},
		},
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Provisioner: "example.com/csi",
			VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)},
		&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv"}, Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}},
		}},
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "pvc"}, Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		}},
		&autoscalingv1.HorizontalPodAutoscaler{
			TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "HorizontalPodAutoscaler"},
			ObjectMeta: metav1.ObjectMeta{Name: "hpa"},
			Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
				ScaleTargetRef:                 autoscalingv1.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				MaxReplicas:                    5,
				TargetCPUUtilizationPercentage: ptr.To[int32](60),
			},
		},
	}
	for _, o := range objs {
		if _, err := s.API().Create(o); err != nil {
			t.Fatalf("create %T: %v", o, err)
		}
	}
	pdb, err := s.API().Get(kinds["PodDisruptionBudget"], "default", "pdb")
	if err != nil {
		t.Fatal(err)
	}
	if p := pdb.(*policyv1.PodDisruptionBudget); p.Status.DisruptionsAllowed != 0 || p.Generation != 1 {
		t.Errorf("PDB: status %+v generation %d, want the status cleared and generation 1", p.Status, p.Generation)
	}
	hpa, err := s.API().Get(kinds["HorizontalPodAutoscaler"], "default", "hpa")
	if err != nil {
		t.Fatal(err)
	}
	h, ok := hpa.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok {
		t.Fatalf("HPA stored as %T, want autoscaling/v2", hpa)
	}
	if *h.Spec.MinReplicas != 1 || len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].Resource == nil ||
		h.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU || *h.Spec.Metrics[0].Resource.Target.AverageUtilization != 60 {
		t.Errorf("HPA converted to v2: minReplicas %v metrics %+v", h.Spec.MinReplicas, h.Spec.Metrics)
	}
	pvc, err := s.API().Get(kinds["PersistentVolumeClaim"], "default", "pvc")
	if err != nil {
		t.Fatal(err)
	}
	if p := pvc.(*corev1.PersistentVolumeClaim); p.Spec.VolumeMode == nil || *p.Spec.VolumeMode != corev1.PersistentVolumeFilesystem {
		t.Errorf("PVC not defaulted: volumeMode %v", p.Spec.VolumeMode)
	}
}
