package job

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/storage/names"
	"k8s.io/kubernetes/pkg/controller"
)

// Indexed completion mode, ported from the Job controller's indexed_job_utils.go (unexported
// there). The index sets keep the real controller's representation so that
// status.completedIndexes reads exactly as it would on a cluster ("0-3,5,7,8").

const (
	completionIndexEnv = "JOB_COMPLETION_INDEX"
	unknownIndex       = -1
)

func isIndexed(job *batchv1.Job) bool {
	return job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion
}

// interval is a closed range of completion indexes.
type interval struct{ first, last int }

// intervals is a sorted list of disjoint, non-adjacent intervals.
type intervals []interval

// with returns the intervals plus the sorted indexes.
func (oi intervals) with(sorted []int) intervals {
	add := make(intervals, len(sorted))
	for i, ix := range sorted {
		add[i] = interval{ix, ix}
	}
	return oi.merge(add)
}

func (oi intervals) merge(other intervals) intervals {
	var out intervals
	push := func(iv interval) {
		if n := len(out); n == 0 || iv.first > out[n-1].last+1 {
			out = append(out, iv)
		} else if out[n-1].last < iv.last {
			out[n-1].last = iv.last
		}
	}
	i, j := 0, 0
	for i < len(oi) && j < len(other) {
		if oi[i].first < other[j].first {
			push(oi[i])
			i++
		} else {
			push(other[j])
			j++
		}
	}
	for ; i < len(oi); i++ {
		push(oi[i])
	}
	for ; j < len(other); j++ {
		push(other[j])
	}
	return out
}

func (oi intervals) total() int {
	n := 0
	for _, iv := range oi {
		n += iv.last - iv.first + 1
	}
	return n
}

func (oi intervals) has(ix int) bool {
	i := sort.Search(len(oi), func(i int) bool { return oi[i].last >= ix })
	return i < len(oi) && oi[i].first <= ix
}

// String is the real format, including its quirk: a run of two is written "a,b", not "a-b".
func (oi intervals) String() string {
	var b strings.Builder
	for _, iv := range oi {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(iv.first))
		if iv.last > iv.first {
			if iv.last == iv.first+1 {
				b.WriteByte(',')
			} else {
				b.WriteByte('-')
			}
			b.WriteString(strconv.Itoa(iv.last))
		}
	}
	return b.String()
}

// parseIntervals reads status.completedIndexes, dropping indexes ≥ completions.
func parseIntervals(s string, completions int) intervals {
	if s == "" {
		return nil
	}
	var out intervals
	for _, part := range strings.Split(s, ",") {
		limits := strings.Split(part, "-")
		first, err := strconv.Atoi(limits[0])
		if err != nil {
			continue
		}
		if first >= completions {
			break
		}
		last := first
		if len(limits) > 1 {
			if last, err = strconv.Atoi(limits[1]); err != nil {
				continue
			}
			last = min(last, completions-1)
		}
		if n := len(out); n > 0 && out[n-1].last == first-1 {
			out[n-1].last = last
		} else {
			out = append(out, interval{first, last})
		}
	}
	return out
}

// podIndex is the pod's completion index from its annotation, or unknownIndex.
func podIndex(pod *corev1.Pod) int {
	v, ok := pod.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		return unknownIndex
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return unknownIndex
	}
	return i
}

// validIndex reports whether the pod has an index below completions.
func validIndex(job *batchv1.Job, pod *corev1.Pod) bool {
	ix := podIndex(pod)
	return ix != unknownIndex && ix < int(*job.Spec.Completions)
}

func indexSet(pods []*corev1.Pod) []int {
	seen := map[int]bool{}
	var out []int
	for _, p := range pods {
		if ix := podIndex(p); ix != unknownIndex && !seen[ix] {
			seen[ix] = true
			out = append(out, ix)
		}
	}
	sort.Ints(out)
	return out
}

// firstPendingIndexes returns up to count indexes below completions that are neither
// succeeded nor held by an active pod (or a terminating one, with podReplacementPolicy
// Failed), lowest first.
func firstPendingIndexes(job *batchv1.Job, succeeded intervals, active, all []*corev1.Pod, count, completions int) []int {
	if count == 0 {
		return nil
	}
	nonPending := succeeded.with(indexSet(active))
	if onlyReplaceFailed(job) {
		nonPending = nonPending.with(indexSet(controller.FilterTerminatingPods(all)))
	}
	out := make([]int, 0, count)
	candidate := 0
	for _, iv := range nonPending {
		for ; candidate < completions && len(out) < count && candidate < iv.first; candidate++ {
			out = append(out, candidate)
		}
		if candidate < iv.last+1 {
			candidate = iv.last + 1
		}
	}
	for ; candidate < completions && len(out) < count; candidate++ {
		out = append(out, candidate)
	}
	return out
}

// duplicateIndexPods splits active pods of an Indexed Job into those to remove (no valid
// index, an index ≥ completions, or all but the best-ranked pod of a repeated index) and the
// rest.
func duplicateIndexPods(pods []*corev1.Pod, completions int) (rm, left []*corev1.Pod) {
	byIndex := append([]*corev1.Pod(nil), pods...)
	sort.SliceStable(byIndex, func(i, j int) bool { return podIndex(byIndex[i]) < podIndex(byIndex[j]) })
	flush := func(group []*corev1.Pod, ix int) {
		switch {
		case len(group) == 0:
		case ix == unknownIndex:
			rm = append(rm, group...)
		case len(group) == 1:
			left = append(left, group[0])
		default:
			sort.Sort(controller.ActivePods(group))
			rm = append(rm, group[:len(group)-1]...)
			left = append(left, group[len(group)-1])
		}
	}
	last, start := unknownIndex, 0
	end := len(byIndex)
	for i, p := range byIndex {
		ix := podIndex(p)
		if ix >= completions {
			rm = append(rm, byIndex[i:]...)
			end = i
			break
		}
		if ix != last {
			flush(byIndex[start:i], last)
			start, last = i, ix
		}
	}
	flush(byIndex[start:end], last)
	return rm, left
}

// indexedTemplate adds what the real controller adds to an Indexed Job's pod: the index
// annotation and label, and the hostname <job>-<index>.
func indexedTemplate(job *batchv1.Job, base *corev1.PodTemplateSpec, ix int) *corev1.PodTemplateSpec {
	t := base.DeepCopy()
	if t.Annotations == nil {
		t.Annotations = map[string]string{}
	}
	t.Annotations[batchv1.JobCompletionIndexAnnotation] = strconv.Itoa(ix)
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	t.Labels[batchv1.JobCompletionIndexAnnotation] = strconv.Itoa(ix)
	t.Spec.Hostname = fmt.Sprintf("%s-%d", job.Name, ix)
	return t
}

// addIndexEnv gives every container JOB_COMPLETION_INDEX from the index label.
func addIndexEnv(t *corev1.PodTemplateSpec) {
	add := func(c *corev1.Container) {
		for _, e := range c.Env {
			if e.Name == completionIndexEnv {
				return
			}
		}
		c.Env = append(c.Env, corev1.EnvVar{Name: completionIndexEnv, ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{FieldPath: fmt.Sprintf("metadata.labels['%s']", batchv1.JobCompletionIndexAnnotation)},
		}})
	}
	for i := range t.Spec.InitContainers {
		add(&t.Spec.InitContainers[i])
	}
	for i := range t.Spec.Containers {
		add(&t.Spec.Containers[i])
	}
}

// indexedGenerateName is <job>-<index>-, with the job name shortened to keep the prefix
// within the generated-name limit.
func indexedGenerateName(job string, ix int) string {
	suffix := "-" + strconv.Itoa(ix) + "-"
	prefix := job + suffix
	if len(prefix) > names.MaxGeneratedNameLength {
		prefix = prefix[:names.MaxGeneratedNameLength-len(suffix)] + suffix
	}
	return prefix
}
