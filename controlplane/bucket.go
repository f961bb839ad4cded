package controlplane

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// Bucket is a client's request token bucket, as client-go makes one for a rest.Config
// (rest.RESTClientFor → flowcontrol.NewTokenBucketRateLimiter(qps, burst), which is
// rate.NewLimiter(rate.Limit(qps), burst): full at first, refilled at qps, at most burst
// tokens). The real client's Accept sleeps for ReserveN(now, 1).DelayFrom(now)
// (k8s.io/client-go/util/flowcontrol/throttle.go); Reserve returns the instant that sleep
// ends instead, so the caller can send the request then as an event on virtual time. The time
// is always the caller's: nothing here reads a clock.
//
// A nil *Bucket is no limiter (qps not positive): every request goes at once.
type Bucket struct {
	l *rate.Limiter
}

// NewBucket returns a bucket of burst tokens refilled at qps, or nil (no limiter) when qps is
// not positive, as rest.RESTClientFor leaves a client without a limiter.
func NewBucket(qps float32, burst int) *Bucket {
	if qps <= 0 {
		return nil
	}
	return &Bucket{l: rate.NewLimiter(rate.Limit(qps), burst)}
}

// Reserve takes a token and returns the instant the request may be sent: now if a token is
// left, else when the bucket will have refilled enough for this request and every one
// reserved before it.
func (b *Bucket) Reserve(now time.Time) time.Time {
	if b == nil {
		return now
	}
	return now.Add(b.l.ReserveN(now, 1).DelayFrom(now))
}

// NextFree is the earliest instant at or after now at which a token is free, without taking
// it: now if one is. Rounded up to the nanosecond, so a token is free at the instant returned.
func (b *Bucket) NextFree(now time.Time) time.Time {
	if b == nil {
		return now
	}
	missing := 1 - b.l.TokensAt(now)
	if missing <= 0 {
		return now
	}
	return now.Add(time.Duration(math.Ceil(missing / float64(b.l.Limit()) * float64(time.Second))))
}
