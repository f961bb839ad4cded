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

// quietLogger drops the scheduler's informational messages and keeps its errors. Building a
// framework from a configuration that re-weights a default plugin logs "MultiPoint plugin is
// explicitly re-configured" at level 0: what kube-scheduler prints when it starts, but noise on
// the stderr of a command whose output is a report.
func quietLogger(l klog.Logger) klog.Logger {
	if l.GetSink() == nil {
		return l
	}
	return l.WithSink(quietSink{l.GetSink()})
}

type quietSink struct{ klog.LogSink }

func (quietSink) Enabled(int) bool { return false }

func (s quietSink) WithValues(kv ...any) klog.LogSink {
	return quietSink{s.LogSink.WithValues(kv...)}
}

func (s quietSink) WithName(name string) klog.LogSink { return quietSink{s.LogSink.WithName(name)} }
