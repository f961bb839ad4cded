package statefulset

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func Test_inOrder(t *testing.T) {
	replicas := int32(4)
	set := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Spec: appsv1.StatefulSetSpec{Replicas: &replicas}}
	pod := func(o int) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s-%d", o)}}
	}
	claim := func(o int) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("data-s-%d", o)}}
	}
	const caller = 1
	show := func(effs []effect) string {
		var b []string
		for _, ef := range effs {
			name := "status"
			switch {
			case ef.pod != nil:
				name = ef.pod.Name
			case ef.claim != nil:
				name = ef.claim.Name
			case ef.placed:
				name = fmt.Sprintf("event@%d", ef.ordinal)
			}
			b = append(b, fmt.Sprintf("%d:%s", ef.kind, name))
		}
		return strings.Join(b, " ")
	}
	for _, tc := range []struct {
		name    string
		pending []effect
		want    string
		wantErr bool
	}{
		{"the caller's effects keep their order", []effect{
			{kind: deletePod, goroutine: caller, pod: pod(3)}, {kind: deletePod, goroutine: caller, pod: pod(2)},
			{kind: writeStatus, goroutine: caller}},
			"2:s-3 2:s-2 4:status", false},
		{"replicas ascending, then condemned descending, then the caller's", []effect{
			{kind: createPod, goroutine: 7, pod: pod(2)}, {kind: deletePod, goroutine: 9, pod: pod(5)},
			{kind: createPod, goroutine: 8, pod: pod(0)}, {kind: deletePod, goroutine: 6, pod: pod(6)},
			{kind: updatePod, goroutine: 5, pod: pod(1)},
			{kind: deletePod, goroutine: caller, pod: pod(3)}, {kind: writeStatus, goroutine: caller}},
			"0:s-0 1:s-1 0:s-2 2:s-6 2:s-5 2:s-3 4:status", false},
		{"stretches between the caller's effects are sorted apart", []effect{
			{kind: createPod, goroutine: 7, pod: pod(3)}, {kind: deletePod, goroutine: caller, pod: pod(2)},
			{kind: createPod, goroutine: 8, pod: pod(1)}, {kind: createPod, goroutine: 9, pod: pod(0)}},
			"0:s-3 2:s-2 0:s-0 0:s-1", false},
		{"an event from another goroutine cannot be placed", []effect{
			{kind: recordEvent, goroutine: 7, reason: "Odd"}}, "", true},
		{"one pod worked on by two goroutines at once cannot be placed", []effect{
			{kind: updateClaim, goroutine: 7, claim: claim(0)}, {kind: updatePod, goroutine: 8, pod: pod(0)},
			{kind: updatePod, goroutine: 7, pod: pod(0)}}, "", true},
		{"claims and placed events go with their pod; one pod's batches one after another keep their order", []effect{
			{kind: createClaim, goroutine: 7, claim: claim(2)}, {kind: createPod, goroutine: 7, pod: pod(2)},
			{kind: createClaim, goroutine: 8, claim: claim(1)}, {kind: recordEvent, goroutine: 8, ordinal: 1, placed: true},
			{kind: updateClaim, goroutine: 9, claim: claim(5)}, {kind: updateClaim, goroutine: 10, claim: claim(4)},
			{kind: deletePod, goroutine: 11, pod: pod(5)}, {kind: deletePod, goroutine: 12, pod: pod(4)}},
			"5:data-s-1 3:event@1 5:data-s-2 0:s-2 6:data-s-5 2:s-5 6:data-s-4 2:s-4", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := inOrder(set, caller, tc.pending)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want one: %v", err, tc.wantErr)
			}
			if err == nil && show(got) != tc.want {
				t.Errorf("got  %s\nwant %s", show(got), tc.want)
			}
		})
	}
}
