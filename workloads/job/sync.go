package job

import (
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	jobcontroller "k8s.io/kubernetes/pkg/controller/job"
	jobutil "k8s.io/kubernetes/pkg/controller/job/util"
)

// One sync of a Job: the real syncJob, its pod accounting and its verdict.

// syncJobCtx is one sync's view of a Job (the real syncJobCtx).
type syncJobCtx struct {
	job         *batchv1.Job
	st          *state
	now         time.Time
	pods        []*corev1.Pod
	active      []*corev1.Pod
	ready       int32
	terminating int32
	succeeded   int32
	failed      int32
	// succeededIndexes are the completed indexes of an Indexed Job.
	succeededIndexes intervals
	newBackoff       failureBackoff
	finished         *batchv1.JobCondition
	// creates, when set by a paced manageJob, sends the pods it counted as active and calls
	// done with how many failed or were skipped.
	creates func(done func(failed, skipped int, err error))
}

// sync is the real syncJob.
func (j *Controller) Sync(ns, name string) error {
	obj, err := j.m.Get("Job", ns, name)
	if err != nil {
		return nil // deleted since
	}
	job := obj.(*batchv1.Job)
	if jobutil.IsJobFinished(job) {
		delete(j.states, job.UID)
		return nil
	}
	if job.DeletionTimestamp != nil || managedElsewhere(job) {
		return nil
	}
	if m := job.Spec.CompletionMode; m != nil && *m != batchv1.NonIndexedCompletion && *m != batchv1.IndexedCompletion {
		return nil
	}
	st := j.states[job.UID]
	if st == nil {
		st = &state{counted: map[types.UID]bool{}, gone: map[types.UID]*corev1.Pod{}}
		j.states[job.UID] = st
	}
	st.generation = job.Generation
	orig := job.Status.DeepCopy()
	if job.Status.UncountedTerminatedPods == nil {
		job.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}

	s := &syncJobCtx{job: job, st: st, now: j.m.Clock().Now(), pods: j.podsOf(job, st)}
	s.active = activePods(s.pods)
	s.ready = countReady(s.active)
	s.terminating = countTerminating(s.pods)
	active := int32(len(s.active))
	newSucceeded, newFailed := s.newlyFinished()
	s.succeeded = job.Status.Succeeded + int32(len(newSucceeded))
	s.failed = job.Status.Failed + int32(len(newFailed))
	if job.Status.StartTime == nil && !suspended(job) {
		t := metav1.NewTime(s.now)
		job.Status.StartTime = &t
	}
	s.newBackoff = st.backoff.next(newSucceeded, newFailed)

	// The end state, in the real controller's order: earlier verdicts, then failure, then
	// success.
	s.finished = getCondition(job, batchv1.JobSuccessCriteriaMet)
	if s.finished == nil {
		if ft := getCondition(job, batchv1.JobFailureTarget); ft != nil {
			s.finished = newCondition(batchv1.JobFailed, ft.Reason, ft.Message, s.now)
		}
	}
	if s.finished == nil {
		switch {
		case s.failed > backoffLimit(job) || pastBackoffLimitOnFailure(job, s.pods):
			s.finished = newCondition(batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit", s.now)
		case j.pastActiveDeadline(job, s.now):
			s.finished = newCondition(batchv1.JobFailureTarget, batchv1.JobReasonDeadlineExceeded, "Job was active longer than specified deadline", s.now)
		case job.Spec.ActiveDeadlineSeconds != nil && !suspended(job):
			left := time.Duration(*job.Spec.ActiveDeadlineSeconds)*time.Second - s.now.Sub(job.Status.StartTime.Time)
			j.queue.AddAfter(ns, name, left)
		}
	}
	if isIndexed(job) {
		s.succeededIndexes = s.calculateSucceededIndexes()
		s.succeeded = int32(s.succeededIndexes.total())
	}

	var manageErr error
	managed := false
	if s.finished != nil {
		deletedReady, deleted, err := j.deleteActivePods(job, s.active)
		if deleted != active {
			s.finished = nil // some pods are still there: finish in a later sync
		}
		active -= deleted
		s.terminating += deleted
		s.ready -= deletedReady
		manageErr = err
	} else {
		active, manageErr = j.manageJob(s)
		managed = true
	}
	if s.creates == nil {
		return j.finishSync(ns, name, s, orig, managed, active, manageErr)
	}
	// Paced creates: the Job stays held by its worker until the last one has been sent, and
	// the status written then (syncJob writes it after manageJob returns). The status update
	// takes a token but is written at that instant, without waiting for it: an
	// approximation, which keeps the status in step with the creates it follows.
	release := j.queue.Hold(ns, name)
	s.creates(func(failed, skipped int, err error) {
		release(j.finishSync(ns, name, s, orig, managed, active-int32(failed+skipped), err))
	})
	return nil
}

// finishSync is the rest of syncJob after manageJob: completion, the status and its write.
func (j *Controller) finishSync(ns, name string, s *syncJobCtx, orig *batchv1.JobStatus, managed bool, active int32, manageErr error) error {
	job, st := s.job, s.st
	if managed {
		complete := false
		if job.Spec.Completions == nil {
			// Any success completes a Job without completions, once nothing runs.
			complete = s.succeeded > 0 && active == 0
		} else {
			complete = s.succeeded >= *job.Spec.Completions && active == 0
		}
		if complete {
			s.finished = newCondition(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, "Reached expected number of succeeded pods", s.now)
		} else {
			j.setSuspendCondition(job, s.now)
		}
	}

	job.Status.Active = active
	job.Status.Ready = &s.ready
	job.Status.Terminating = &s.terminating
	counted := s.count()
	if isIndexed(job) {
		job.Status.Succeeded = int32(s.succeededIndexes.total())
		job.Status.CompletedIndexes = s.succeededIndexes.String()
	}
	// Interim conditions first (FailureTarget, SuccessCriteriaMet), then the final one once no
	// pod is terminating.
	if s.finished != nil && s.finished.Type == batchv1.JobFailureTarget {
		job.Status.Conditions = append(job.Status.Conditions, *s.finished)
		s.finished = newCondition(batchv1.JobFailed, s.finished.Reason, s.finished.Message, s.now)
	}
	if s.finished != nil && s.finished.Type == batchv1.JobSuccessCriteriaMet {
		if getCondition(job, batchv1.JobSuccessCriteriaMet) == nil {
			job.Status.Conditions = append(job.Status.Conditions, *s.finished)
		}
		s.finished = newCondition(batchv1.JobComplete, s.finished.Reason, s.finished.Message, s.now)
	}
	finishedNow := false
	if s.finished != nil && s.terminating == 0 {
		job.Status.Conditions, _ = ensureCondition(job.Status.Conditions, s.finished.Type, corev1.ConditionTrue, s.finished.Reason, s.finished.Message, s.now)
		if s.finished.Type == batchv1.JobComplete {
			t := s.finished.LastTransitionTime
			job.Status.CompletionTime = &t
		}
		finishedNow = true
	}

	if !apiequality.Semantic.DeepEqual(*orig, job.Status) {
		if j.client.Paced() {
			j.client.Reserve()
		}
		if _, err := j.m.API().UpdateStatus(job); err != nil {
			if j.client.Paced() && apierrors.IsNotFound(err) {
				return nil // deleted while its pods were being created
			}
			return err
		}
	}
	st.backoff = s.newBackoff
	if finishedNow {
		j.recordFinished(job, s.finished)
	}
	if counted {
		// Removing the tracking finalizers would send pod updates: the real controller syncs
		// again one batch period later.
		j.queue.AddAfter(ns, name, jobcontroller.SyncJobBatchPeriod)
	}
	return manageErr
}

func managedElsewhere(job *batchv1.Job) bool {
	return job.Spec.ManagedBy != nil && *job.Spec.ManagedBy != batchv1.JobControllerName
}

func suspended(job *batchv1.Job) bool { return job.Spec.Suspend != nil && *job.Spec.Suspend }

func backoffLimit(job *batchv1.Job) int32 {
	if job.Spec.BackoffLimit == nil {
		return 6 // the API default
	}
	return *job.Spec.BackoffLimit
}

func onlyReplaceFailed(job *batchv1.Job) bool {
	return job.Spec.PodReplacementPolicy != nil && *job.Spec.PodReplacementPolicy == batchv1.Failed
}

// podsOf is the Job's pods: the live ones and those deleted before they were counted, in name
// order.
func (j *Controller) podsOf(job *batchv1.Job, st *state) []*corev1.Pod {
	owned := j.m.OwnedBy(job.UID, "Pod")
	pods := make([]*corev1.Pod, 0, len(owned)+len(st.gone))
	for _, o := range owned {
		pods = append(pods, o.(*corev1.Pod))
	}
	if len(st.gone) == 0 {
		return pods
	}
	var gone []*corev1.Pod
	for uid, p := range st.gone {
		if st.counted[uid] {
			delete(st.gone, uid)
			delete(st.counted, uid)
			continue
		}
		gone = append(gone, p)
	}
	sort.Slice(gone, func(a, b int) bool {
		if gone[a].Name != gone[b].Name {
			return gone[a].Name < gone[b].Name
		}
		return gone[a].UID < gone[b].UID
	})
	return append(pods, gone...)
}

// activePods is controller.FilterActivePods without its logging.
func activePods(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

func countReady(pods []*corev1.Pod) int32 {
	n := int32(0)
	for _, p := range pods {
		if podutil.IsPodReady(p) {
			n++
		}
	}
	return n
}

func countTerminating(pods []*corev1.Pod) int32 {
	n := int32(0)
	for _, p := range pods {
		if p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			n++
		}
	}
	return n
}

// podFailed: Failed, or deleted before it succeeded (unless only failed pods are replaced).
func podFailed(p *corev1.Pod, job *batchv1.Job) bool {
	if p.Status.Phase == corev1.PodFailed {
		return true
	}
	if onlyReplaceFailed(job) {
		return false
	}
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded
}

// newlyFinished returns the pods that succeeded or failed since they were last counted
// (Indexed Jobs: only pods with a valid index).
func (s *syncJobCtx) newlyFinished() (succeeded, failed []*corev1.Pod) {
	for _, p := range s.pods {
		if s.st.counted[p.UID] || (isIndexed(s.job) && !validIndex(s.job, p)) {
			continue
		}
		if p.Status.Phase == corev1.PodSucceeded {
			succeeded = append(succeeded, p)
		} else if podFailed(p, s.job) {
			failed = append(failed, p)
		}
	}
	return succeeded, failed
}

func (s *syncJobCtx) calculateSucceededIndexes() intervals {
	completions := int(*s.job.Spec.Completions)
	prev := parseIntervals(s.job.Status.CompletedIndexes, completions)
	var newIx []int
	seen := map[int]bool{}
	for _, p := range s.pods {
		ix := podIndex(p)
		if p.Status.Phase == corev1.PodSucceeded && ix != unknownIndex && ix < completions && !s.st.counted[p.UID] && !seen[ix] {
			seen[ix] = true
			newIx = append(newIx, ix)
		}
	}
	sort.Ints(newIx)
	return prev.with(newIx)
}

// count adds the newly finished pods to the status counters and marks them counted, as the
// real trackJobStatusAndRemoveFinalizers does by removing their finalizers. When the Job has
// failed, every pod not yet counted counts as failed. It reports whether it counted any pod.
func (s *syncJobCtx) count() bool {
	job := s.job
	failing := s.finished != nil && s.finished.Type != batchv1.JobSuccessCriteriaMet
	countedAny := false
	for _, p := range s.pods {
		if s.st.counted[p.UID] {
			continue
		}
		podFailed := podFailed(p, job)
		if !(job.DeletionTimestamp != nil || s.finished != nil || p.Status.Phase == corev1.PodSucceeded || podFailed) {
			continue
		}
		s.st.counted[p.UID] = true
		countedAny = true
		if p.Status.Phase == corev1.PodSucceeded {
			if !isIndexed(job) {
				job.Status.Succeeded++
			}
			// Indexed: the completed indexes were merged in calculateSucceededIndexes.
		} else if podFailed || failing {
			if !isIndexed(job) || validIndex(job, p) {
				job.Status.Failed++
			}
		}
	}
	return countedAny
}
