package app

import (
	"fmt"
	"io"
	"time"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// noteCronJobsNeedUntil tells a user who gives CronJobs but no --until that they may never
// fire: a CronJob never finishes, so its wait for the next scheduled time does not keep a run
// going (workloads/cronjob), and the run ends when nothing else is left to do.
func noteCronJobsNeedUntil(stderr io.Writer, objs []manifest.Object, until time.Duration) {
	if until > 0 {
		return
	}
	for _, o := range objs {
		if cj, ok := o.Obj.(*batchv1.CronJob); ok {
			fmt.Fprintf(stderr, "kwoksim: note: CronJob %s (%s) fires only while the run goes on; without --until the run ends when nothing else is left to do (try --until 24h)\n", cj.Name, o.Source)
			return
		}
	}
}
