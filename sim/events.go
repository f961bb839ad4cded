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

// QuietLogger drops a logger's informational messages and keeps its errors. The scheduler's
// config scheme and framework log at level 0 what kube-scheduler prints when it starts ("MultiPoint
// plugin is explicitly re-configured" when a profile re-weights a default plugin): noise on the
// stderr of a command whose output is a report. The simulator gives the scheduler such a
// logger; a command sets one as klog's global logger for the config scheme, which logs there.
func QuietLogger(l klog.Logger) klog.Logger {
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
