package workloads_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/kwoksim/kwoksim/workloads"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubernetes/pkg/controller"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
)

// Deployments, ReplicaSets and bare Pods are named and owned as the real controllers do.
func TestControllersNameAndOwnLikeKubernetes(t *testing.T) {
	sc := loadScenario(t, "../testdata/seed/node.yaml", "../testdata/scenarios/kinds/workloads.yaml")
	s, err := sim.New(context.Background(), sim.Config{Seed: 3, Stages: stages.Default()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	workloads.Install(s)
	// The seed node is tainted; these workloads do not tolerate it, so use an untainted copy.
	node := sc.Nodes[0].Obj.(*corev1.Node).DeepCopy()
	node.Spec.Taints = nil
	if _, err := s.API().Create(node); err != nil {
		t.Fatal(err)
	}
	for _, o := range sc.Workloads {
		if _, err := s.API().Create(o.Obj); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}

	rsKind, _ := sim.KindNamed("ReplicaSet")
	rsList, err := s.API().List(rsKind)
	if err != nil {
		t.Fatal(err)
	}
	var web *appsv1.ReplicaSet
	for _, o := range rsList {
		if rs := o.(*appsv1.ReplicaSet); rs.Namespace == "shop" {
			web = rs
		}
	}
	if web == nil {
		t.Fatalf("the Deployment made no ReplicaSet; have %d", len(rsList))
	}
	deployKind, _ := sim.KindNamed("Deployment")
	dObj, err := s.API().Get(deployKind, "shop", "web")
	if err != nil {
		t.Fatal(err)
	}
	d := dObj.(*appsv1.Deployment)
	hash := controller.ComputeHash(&d.Spec.Template, d.Status.CollisionCount)
	if web.Name != "web-"+hash || web.Labels["pod-template-hash"] != hash || web.Spec.Selector.MatchLabels["pod-template-hash"] != hash {
		t.Errorf("ReplicaSet %s labels %v selector %v; want web-%s with the hash label and selector", web.Name, web.Labels, web.Spec.Selector, hash)
	}
	if ref := metav1.GetControllerOf(web); ref == nil || ref.UID != d.UID || ref.Kind != "Deployment" {
		t.Errorf("ReplicaSet owner = %+v, want the Deployment", ref)
	}
	if web.Annotations["deployment.kubernetes.io/revision"] != "1" {
		t.Errorf("revision annotation = %q, want 1", web.Annotations["deployment.kubernetes.io/revision"])
	}

	byOwner := map[string][]string{}
	suffix := regexp.MustCompile(`-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	obs, _ := s.Observe()
	for _, rec := range obs.Pods {
		p := rec.Pod
		owner := "none"
		if ref := metav1.GetControllerOf(p); ref != nil {
			owner = ref.Kind + "/" + ref.Name
			if !suffix.MatchString(p.Name) || p.GenerateName != ref.Name+"-" {
				t.Errorf("pod %s (generateName %q) of %s is not <owner>-<5 random chars>", p.Name, p.GenerateName, owner)
			}
		}
		byOwner[owner] = append(byOwner[owner], p.Namespace+"/"+p.Name)
		if p.Status.Phase != corev1.PodRunning || p.Spec.NodeName != node.Name {
			t.Errorf("pod %s: phase %s on %q, want Running on %s", p.Name, p.Status.Phase, p.Spec.NodeName, node.Name)
		}
	}
	if len(byOwner["ReplicaSet/"+web.Name]) != 3 || len(byOwner["ReplicaSet/worker"]) != 2 || len(byOwner["none"]) != 1 {
		t.Errorf("pods by owner = %v, want 3 web, 2 worker, 1 solo", byOwner)
	}
	for _, name := range byOwner["ReplicaSet/"+web.Name] {
		if name[:5] != "shop/" {
			t.Errorf("web pod %s is not in the Deployment's namespace", name)
		}
	}
}
