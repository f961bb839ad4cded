package workloads_test

import (
	"path/filepath"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// A user's Services load whatever their type, with the cluster IPs and node ports
// kube-apiserver's allocators would give them (in order here: see sim/services.go), and both
// autoscaling versions of a HorizontalPodAutoscaler load, stored as autoscaling/v2, and so do
// the CSI kinds.
func TestClusterObjectsOfAManifestLoad(t *testing.T) {
	objs, err := manifest.Load([]string{filepath.Join("..", "testdata", "kinds", "cluster-objects.yaml")},
		manifest.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := workloadstest.Sim(t, sim.Config{Seed: 1})
	for _, o := range objs {
		if _, err := s.API().Create(o.Obj); err != nil {
			t.Fatalf("%s: %v", o.Source, err)
		}
	}
	services := map[string]*corev1.Service{}
	for _, svc := range workloadstest.List[*corev1.Service](t, s, "Service") {
		services[svc.Name] = svc
	}
	check := func(name, clusterIP string, nodePorts ...int32) {
		t.Helper()
		svc := services[name]
		if svc == nil {
			t.Fatalf("service %s not stored", name)
		}
		if svc.Spec.ClusterIP != clusterIP {
			t.Errorf("%s: clusterIP %q, want %q", name, svc.Spec.ClusterIP, clusterIP)
		}
		var got []int32
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				got = append(got, p.NodePort)
			}
		}
		if len(got) != len(nodePorts) || (len(got) > 0 && (got[0] != nodePorts[0] || got[len(got)-1] != nodePorts[len(nodePorts)-1])) {
			t.Errorf("%s: node ports %v, want %v", name, got, nodePorts)
		}
	}
	check("web", "10.96.1.1")
	// The requested 30443 is reserved; the other port takes the first of the dynamic band.
	check("web-nodeport", "10.96.1.2", 30086, 30443)
	check("web-lb", "10.96.1.3", 30087)
	check("web-headless", "None")
	check("db", "")
	if hc := services["web-lb"].Spec.HealthCheckNodePort; hc != 30088 {
		t.Errorf("web-lb: healthCheckNodePort %d, want 30088", hc)
	}
	// The CSI kinds, defaulted as kube-apiserver defaults them (SetDefaults_CSIDriver).
	drivers := workloadstest.List[*storagev1.CSIDriver](t, s, "CSIDriver")
	if len(drivers) != 1 || drivers[0].Spec.FSGroupPolicy == nil || *drivers[0].Spec.FSGroupPolicy != storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy {
		t.Errorf("CSIDrivers %+v, want csi.example.com with fsGroupPolicy ReadWriteOnceWithFSType", drivers)
	}
	csiNodes := workloadstest.List[*storagev1.CSINode](t, s, "CSINode")
	if len(csiNodes) != 1 || len(csiNodes[0].Spec.Drivers) != 1 || csiNodes[0].Spec.Drivers[0].Allocatable == nil ||
		*csiNodes[0].Spec.Drivers[0].Allocatable.Count != 25 {
		t.Errorf("CSINodes %+v, want kwok-node-0 with 25 volumes of csi.example.com", csiNodes)
	}
	if caps := workloadstest.List[*storagev1.CSIStorageCapacity](t, s, "CSIStorageCapacity"); len(caps) != 1 || caps[0].Capacity.String() != "100Gi" {
		t.Errorf("CSIStorageCapacities %+v, want csisc-z1 of 100Gi", caps)
	}
	hpas := workloadstest.List[*autoscalingv2.HorizontalPodAutoscaler](t, s, "HorizontalPodAutoscaler")
	if len(hpas) != 2 || hpas[1].Name != "web-v1" || hpas[1].Spec.Metrics[0].Resource.Target.AverageUtilization == nil ||
		*hpas[1].Spec.Metrics[0].Resource.Target.AverageUtilization != 60 {
		t.Errorf("HPAs %+v, want web and web-v1 (60%% CPU) stored as autoscaling/v2", hpas)
	}
}
