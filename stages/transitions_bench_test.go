package stages

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// productGCPercent is cmd/kwoksim's GOGC.
const productGCPercent = 400

const (
	benchPods       = 10_000
	benchReplicaSet = 40 // distinct pod templates
)

// generalPodStages loads KWOK's general pod stages.
func generalPodStages(tb testing.TB) []*Stage {
	tb.Helper()
	stages, err := profileStages(filepath.Join("..", "testdata", "kwok", "stages", "pod", "general"))
	if err != nil {
		tb.Fatal(err)
	}
	return stages
}

// benchEnv is a deterministic Env: a virtual clock the caller advances, and
// addresses derived from names.
type benchEnv struct {
	now     time.Time
	stubEnv // the provisioning functions
}

func (e *benchEnv) Now() time.Time       { return e.now }
func (e *benchEnv) StartTime() time.Time { return kwokNow }
func (e *benchEnv) NodeIP() string       { return "10.0.0.1" }
func (e *benchEnv) NodeName() string     { return "kwok" }
func (e *benchEnv) NodePort() int        { return 10250 }
func (e *benchEnv) PodIP() string        { return "10.244.0.1" }
func (e *benchEnv) NodeIPWith(node string) string {
	return fmt.Sprintf("10.0.%d.%d", len(node)%250, hashString(node)%250)
}
func (e *benchEnv) NodeIPsWith(node string) []string { return []string{e.NodeIPWith(node)} }
func (e *benchEnv) PodIPWith(node string, hostNetwork bool, uid, name, ns string) (string, error) {
	if hostNetwork {
		return e.NodeIPWith(node), nil
	}
	h := hashString(ns + "/" + name)
	return fmt.Sprintf("10.%d.%d.%d", 100+h%100, (h/100)%250, (h/25000)%250), nil
}
func (e *benchEnv) PodIPsWith(node string, hostNetwork bool, uid, name, ns string) ([]string, error) {
	ip, err := e.PodIPWith(node, hostNetwork, uid, name, ns)
	return []string{ip}, err
}

func hashString(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// benchPod builds pod i: a Deployment pod (1–2 containers, a fifth with an
// init container), every tenth a Job pod, bound to one of 100 nodes.
func benchPodObject(tb testing.TB, i int) map[string]any {
	tb.Helper()
	rs := i % benchReplicaSet
	owner := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet",
		Name: fmt.Sprintf("app-%d-5d8f7c9b4", rs), UID: types.UID(fmt.Sprintf("rs-uid-%d", rs)),
		Controller: new(true), BlockOwnerDeletion: new(true)}
	if rs%10 == 0 {
		owner = metav1.OwnerReference{APIVersion: "batch/v1", Kind: "Job",
			Name: fmt.Sprintf("job-%d", rs), UID: types.UID(fmt.Sprintf("job-uid-%d", rs)),
			Controller: new(true), BlockOwnerDeletion: new(true)}
	}
	res := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
	}
	containers := []corev1.Container{{Name: "app", Image: fmt.Sprintf("registry.example/app-%d:v1", rs), Resources: res}}
	if rs%3 == 0 {
		containers = append(containers, corev1.Container{Name: "sidecar", Image: "registry.example/proxy:v2", Resources: res})
	}
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:              fmt.Sprintf("app-%d-5d8f7c9b4-%05d", rs, i),
			Namespace:         fmt.Sprintf("ns-%d", rs%4),
			UID:               types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", i)),
			CreationTimestamp: metav1.NewTime(kwokNow),
			Labels:            map[string]string{"app": fmt.Sprintf("app-%d", rs), "pod-template-hash": "5d8f7c9b4"},
			OwnerReferences:   []metav1.OwnerReference{owner},
		},
		Spec: corev1.PodSpec{
			NodeName:   fmt.Sprintf("kwok-node-%d", i%100),
			Containers: containers,
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBurstable},
	}
	if rs%5 == 1 {
		pod.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "registry.example/init:v1", Resources: res}}
	}
	obj, err := Object(pod)
	if err != nil {
		tb.Fatal(err)
	}
	return obj
}

// deepCopyJSON copies a value as encoding/json decodes it.
func deepCopyJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopyJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopyJSON(e)
		}
		return s
	}
	return v
}

// transitionRunner plays pods through a stage set the way the simulator
// does, one transition at a time.
type transitionRunner struct {
	stages []*Stage
	rng    *rand.Rand
	env    *benchEnv
	kind   string // "" means Pod
}

// step plays one transition of obj: Match, Pick, Delay, Steps, then the
// patches. It returns the next state, whether the pod was deleted, and
// whether any stage matched.
func (r *transitionRunner) step(obj map[string]any) (next map[string]any, deleted, played bool, err error) {
	kind := r.kind
	if kind == "" {
		kind = "Pod"
	}
	matched, err := Match(r.stages, kind, obj)
	if err != nil || len(matched) == 0 {
		return obj, false, false, err
	}
	s, err := Pick(matched, obj, r.rng)
	if err != nil || s == nil {
		return obj, false, false, err
	}
	d, err := s.Delay(obj, r.env.now, r.rng)
	if err != nil {
		return nil, false, false, err
	}
	r.env.now = r.env.now.Add(d)
	steps, err := s.Steps(obj, r.env)
	if err != nil {
		return nil, false, false, err
	}
	for _, st := range steps {
		if st.Finalizers != nil {
			if obj, err = ApplyFinalizers(obj, st.Finalizers); err != nil {
				return nil, false, false, err
			}
		}
		if st.Delete {
			return nil, true, true, nil
		}
		if st.Patch != nil {
			if obj, err = ApplyPatch(kind, obj, st.Patch); err != nil {
				return nil, false, false, err
			}
		}
	}
	return obj, false, true, nil
}

// run plays obj until no stage matches or it is deleted; pods marked for
// deletion get a deletionTimestamp once they settle (a user deleting them),
// which pod-delete then plays. It returns the number of transitions.
func (r *transitionRunner) run(obj map[string]any, deleteWhenSettled bool) (int, error) {
	n := 0
	for {
		next, deleted, played, err := r.step(obj)
		if err != nil {
			return n, err
		}
		if deleted {
			return n + 1, nil
		}
		if !played {
			meta, _ := obj["metadata"].(map[string]any)
			if !deleteWhenSettled || meta["deletionTimestamp"] != nil {
				return n, nil
			}
			meta["deletionTimestamp"] = r.env.now.Add(30 * time.Second).UTC().Format(time.RFC3339)
			continue
		}
		n++
		obj = next
		if n > 100 {
			return n, fmt.Errorf("pod does not settle")
		}
	}
}

// BenchmarkGeneralPodTransitions plays 10,000 Deployment/Job pods bound to
// nodes through KWOK's general pod stages (create, init containers, ready,
// complete, delete); one op is the whole population, and transitions/s
// counts stage transitions (match + pick + delay + render + patch).
//
// It runs under the garbage-collector setting the kwoksim CLI runs with
// (GOGC=400, cmd/kwoksim sets it unless GOGC is in the environment, which
// wins here too), and collects the untimed setup's garbage (the fresh pod
// copies replace the last round's) before the clock starts, so that only
// the transitions' own allocation is charged to them.
func BenchmarkGeneralPodTransitions(b *testing.B) {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(productGCPercent))
	}
	stages := generalPodStages(b)
	pristine := make([]map[string]any, benchPods)
	for i := range pristine {
		pristine[i] = benchPodObject(b, i)
	}
	pods := make([]map[string]any, benchPods)
	r := &transitionRunner{stages: stages, rng: rand.New(rand.NewPCG(1, 2)), env: &benchEnv{now: kwokNow}}
	total := 0
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		for i, p := range pristine {
			pods[i] = deepCopyJSON(p).(map[string]any)
		}
		runtime.GC()
		start := time.Now()
		b.StartTimer()
		for i, p := range pods {
			n, err := r.run(p, i%7 == 0)
			if err != nil {
				b.Fatalf("pod %d: %v", i, err)
			}
			total += n
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "transitions/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(total), "ns/transition")
}
