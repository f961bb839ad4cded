package job

import (
	"sort"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/kubernetes/pkg/controller"
	jobcontroller "k8s.io/kubernetes/pkg/controller/job"
)

// Creating and deleting a Job's pods: the real manageJob and its helpers.

// manageJob creates or deletes pods toward the wanted number of active pods, and returns the
// number of active pods after it. Pod creation waits out the failure backoff.
func (j *Controller) manageJob(s *syncJobCtx) (int32, error) {
	job := s.job
	active := int32(len(s.active))
	if suspended(job) {
		removedReady, removed, err := j.deleteJobPods(job, s.st, podsForRemoval(job, s.active, int(active)))
		s.terminating += removed
		s.ready -= removedReady
		return active - removed, err
	}
	parallelism := int32(1)
	if job.Spec.Parallelism != nil {
		parallelism = *job.Spec.Parallelism
	}
	var want int32
	if job.Spec.Completions == nil {
		// No completions: run parallelism pods until one succeeds, then start no more.
		want = parallelism
		if s.succeeded > 0 {
			want = active
		}
	} else {
		want = max(min(*job.Spec.Completions-s.succeeded, parallelism), 0)
	}

	rm := podsForRemoval(job, s.active, int(max(active-want, 0)))
	if len(rm) > jobcontroller.MaxPodCreateDeletePerSync {
		rm = rm[:jobcontroller.MaxPodCreateDeletePerSync]
	}
	if len(rm) > 0 {
		// Deleting takes precedence: a sync never both deletes and creates.
		removedReady, removed, err := j.deleteJobPods(job, s.st, rm)
		s.terminating += removed
		s.ready -= removedReady
		return active - removed, err
	}

	var terminating int32
	if onlyReplaceFailed(job) {
		terminating = s.terminating
	}
	diff := want - terminating - active
	if diff <= 0 {
		return active, nil
	}
	if wait := s.newBackoff.remaining(s.now); wait > 0 {
		j.queue.AddAfter(job.Namespace, job.Name, max(wait, jobcontroller.SyncJobBatchPeriod))
		return active, nil
	}
	diff = min(diff, int32(jobcontroller.MaxPodCreateDeletePerSync))
	var indexes []int
	if isIndexed(job) {
		indexes = firstPendingIndexes(job, s.succeededIndexes, s.active, s.pods, int(diff), int(*job.Spec.Completions))
		diff = int32(len(indexes))
	}

	template := job.Spec.Template.DeepCopy()
	if isIndexed(job) {
		addIndexEnv(template)
	}
	// Deviation: no job-tracking finalizer (see the top of this file).
	ref := metav1.NewControllerRef(job, controllerKind)
	create := func(i int) error {
		t, generateName := template, ""
		if indexes != nil {
			t = indexedTemplate(job, template, indexes[i])
			generateName = indexedGenerateName(job.Name, indexes[i])
		}
		pod, err := controller.GetPodFromTemplate(t, job, ref)
		if err != nil {
			return err
		}
		if generateName != "" {
			pod.GenerateName = generateName
		}
		pod.Namespace = job.Namespace
		_, err = j.m.API().Create(pod)
		return err
	}
	if j.client.Paced() {
		// As the real manageJob: count the pods as active (active += diff), create them in
		// slow-start batches through the job-controller's client, and take back the ones
		// that failed or were skipped after a failed batch (see Sync).
		s.creates = func(done func(failed, skipped int, err error)) {
			j.client.SlowStartBatch(int(diff), create, done)
		}
		return active + diff, nil
	}
	for i := range int(diff) {
		if err := create(i); err != nil {
			// Like the real slow start, stop at the first failure.
			return active, err
		}
		active++
	}
	return active, nil
}

// podsForRemoval picks at least rmAtLeast active pods to remove, the least advanced first
// (controller.ActivePods order); an Indexed Job also removes pods with repeated or invalid
// indexes.
func podsForRemoval(job *batchv1.Job, pods []*corev1.Pod, rmAtLeast int) []*corev1.Pod {
	var rm, left []*corev1.Pod
	if isIndexed(job) {
		rm, left = duplicateIndexPods(pods, int(*job.Spec.Completions))
	} else {
		left = append(left, pods...)
	}
	if len(rm) < rmAtLeast {
		sort.Sort(controller.ActivePods(left))
		rm = append(rm, left[:rmAtLeast-len(rm)]...)
	}
	return rm
}

// deleteJobPods removes pods without counting them (the real controller removes their
// finalizer first).
func (j *Controller) deleteJobPods(job *batchv1.Job, st *state, pods []*corev1.Pod) (ready, removed int32, err error) {
	for _, p := range pods {
		st.counted[p.UID] = true
		if e := j.m.API().Delete(j.podKind, job.Namespace, p.Name, metav1.DeleteOptions{}); e != nil && !apierrors.IsNotFound(e) {
			delete(st.counted, p.UID)
			err = e
			continue
		}
		removed++
		if podutil.IsPodReady(p) {
			ready++
		}
	}
	return ready, removed, err
}

// deleteActivePods deletes the pods of a Job that is finishing; they are counted as failed.
func (j *Controller) deleteActivePods(job *batchv1.Job, pods []*corev1.Pod) (ready, deleted int32, err error) {
	for _, p := range pods {
		if e := j.m.API().Delete(j.podKind, job.Namespace, p.Name, metav1.DeleteOptions{}); e != nil && !apierrors.IsNotFound(e) {
			err = e
			continue
		}
		deleted++
		if podutil.IsPodReady(p) {
			ready++
		}
	}
	return ready, deleted, err
}
