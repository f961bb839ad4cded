package deployment

import (
	"math"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// replicas: 2147483647 with the default 25% surge: replicas+maxSurge wrapped to a negative
// int32 in Kubernetes' arithmetic, and the new ReplicaSet was never scaled up.
func TestMaxReplicasDoNotWrap(t *testing.T) {
	surge, unavailable := intstr.FromString("25%"), intstr.FromString("25%")
	d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](math.MaxInt32),
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}},
	}}
	if got := maxTotal(d); got != math.MaxInt32 {
		t.Errorf("maxTotal = %d, want %d (capped)", got, int32(math.MaxInt32))
	}
	rs := &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](0)}}
	got, err := newRSNewReplicas(d, []*appsv1.ReplicaSet{rs}, rs)
	if err != nil || got != math.MaxInt32 {
		t.Errorf("newRSNewReplicas = %d, %v; want %d", got, err, int32(math.MaxInt32))
	}
}
