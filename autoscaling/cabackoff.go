package autoscaling

import "time"

// GroupBackoff is cluster-autoscaler's exponential node group backoff after a failed
// scale-up (utils/backoff/exponential_backoff.go, exponentialBackoff): the first failure
// backs the group off for the initial duration; a failure once that backoff is over doubles
// it, up to the max; a failure while still backed off keeps it; an entry whose last failure
// is older than the reset timeout starts again from the initial duration.
type GroupBackoff struct {
	initial, max, reset time.Duration
	groups              map[string]backoffInfo
}

type backoffInfo struct {
	duration        time.Duration
	until, lastFail time.Time
}

// NewGroupBackoff uses the options' --initial-node-group-backoff-duration,
// --max-node-group-backoff-duration and --node-group-backoff-reset-timeout.
func NewGroupBackoff(o Options) *GroupBackoff {
	return &GroupBackoff{initial: o.InitialNodeGroupBackoffDuration, max: o.MaxNodeGroupBackoffDuration,
		reset: o.NodeGroupBackoffResetTimeout, groups: map[string]backoffInfo{}}
}

// Backoff records a failed scale-up of the group now and returns until when it is backed off.
func (b *GroupBackoff) Backoff(group string, now time.Time) time.Time {
	d := b.initial
	if info, ok := b.groups[group]; ok && info.lastFail.Add(b.reset).After(now) {
		if info.until.Before(now) {
			d = min(2*info.duration, b.max)
		} else {
			d = info.duration
		}
	}
	until := now.Add(d)
	b.groups[group] = backoffInfo{duration: d, until: until, lastFail: now}
	return until
}

// BackedOff is whether the group is backed off now (exponentialBackoff.BackoffStatus).
func (b *GroupBackoff) BackedOff(group string, now time.Time) bool {
	info, ok := b.groups[group]
	return ok && info.until.After(now)
}
