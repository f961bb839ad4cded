package manifest

import (
	"fmt"
	"math"
	"math/big"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// ScaleReplicas multiplies the size of every scalable workload by factor, rounding up, so that
// a sweep can ask "and with 2.5 times the load?" of the same manifests. Deployments,
// ReplicaSets, ReplicationControllers and StatefulSets have their replicas scaled (an unset
// count is the apiserver's default, 1); Jobs, and the Jobs of CronJobs, have their parallelism
// scaled (unset: 1) and their completions when set, so a Job does proportionally more work
// with proportionally more pods at once (a work-queue Job, without completions, keeps none).
// DaemonSets (one pod per node) and bare Pods are left alone. A count above 0 stays at least 1; 0 stays 0. factor must be positive and finite.
//
// The product is computed on the factor's shortest decimal form, exactly: 10 × 1.1 is 11, not
// the 12 that rounding 11.000000000000002 up would give.
func ScaleReplicas(objs []Object, factor float64) error {
	if !(factor > 0) || math.IsInf(factor, 0) {
		return fmt.Errorf("the replica scale must be a positive number, got %v", factor)
	}
	if factor == 1 {
		return nil
	}
	text := strconv.FormatFloat(factor, 'g', -1, 64)
	f, ok := new(big.Rat).SetString(text)
	if !ok {
		return fmt.Errorf("the replica scale %v is not a decimal number", factor)
	}
	for _, o := range objs {
		var counts []**int32
		switch w := o.Obj.(type) {
		case *appsv1.Deployment:
			counts = []**int32{&w.Spec.Replicas}
		case *appsv1.ReplicaSet:
			counts = []**int32{&w.Spec.Replicas}
		case *appsv1.StatefulSet:
			counts = []**int32{&w.Spec.Replicas}
		case *corev1.ReplicationController:
			counts = []**int32{&w.Spec.Replicas}
		case *batchv1.Job:
			counts = jobCounts(&w.Spec)
		case *batchv1.CronJob:
			counts = jobCounts(&w.Spec.JobTemplate.Spec)
		}
		for _, c := range counts {
			n := int32(1)
			if *c != nil {
				n = **c
			}
			scaled, err := scaleCount(n, f, text)
			if err != nil {
				return fmt.Errorf("%s: %w", o.Source, err)
			}
			*c = &scaled
		}
	}
	return nil
}

// jobCounts are the counts of a Job that scale: its parallelism, and its completions when set.
func jobCounts(spec *batchv1.JobSpec) []**int32 {
	counts := []**int32{&spec.Parallelism}
	if spec.Completions != nil {
		counts = append(counts, &spec.Completions)
	}
	return counts
}

// scaleCount is ⌈n·f⌉, at least 1 when n is above 0.
func scaleCount(n int32, f *big.Rat, text string) (int32, error) {
	if n <= 0 {
		return n, nil
	}
	p := new(big.Rat).Mul(new(big.Rat).SetInt64(int64(n)), f)
	q, r := new(big.Int).QuoRem(p.Num(), p.Denom(), new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() || q.Int64() > math.MaxInt32 {
		return 0, fmt.Errorf("%d × %s is %s, more than the limit of %d", n, text, q, math.MaxInt32)
	}
	return max(int32(q.Int64()), 1), nil
}
