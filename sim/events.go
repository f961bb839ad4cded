package sim

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
)

type eventRecorder = events.EventRecorderLogger

// schedulerEvents receives the scheduler's events (Scheduled, FailedScheduling, Preempted …)
// synchronously instead of through an asynchronous broadcaster, so they are ordered with
// everything else in the run.
type schedulerEvents struct{ hooks SchedulerHooks }

var _ events.EventRecorderLogger = (*schedulerEvents)(nil)

func (e *schedulerEvents) Eventf(regarding, _ runtime.Object, eventType, reason, _ string, note string, args ...interface{}) {
	e.hooks.Event(regarding, eventType, reason, fmt.Sprintf(note, args...))
}

func (e *schedulerEvents) WithLogger(klog.Logger) events.EventRecorderLogger { return e }
