package replicaset

import "github.com/kwoksim/kwoksim/workloads/manager"

// slowStartInitialBatchSize is controller.SlowStartInitialBatchSize.
const slowStartInitialBatchSize = 1

// slowStartBatch is the real controller's slowStartBatch (pkg/controller/replicaset): it
// calls fn count times in batches of 1, 2, 4, …, and stops after the first batch in which a
// call failed; done gets that batch's first error, or nil.
//
// The real controller runs a batch's calls on goroutines of their own, each waiting for its
// client's token, and starts the next batch when all have returned. Here each call is sent
// through the client (Client.SendAll): at its reserved instant, in the order reserved, so
// that the generated names, UIDs and the order of the writes do not depend on the Go
// scheduler; the next batch reserves its tokens when the previous batch's last call has run.
// An unpaced client makes every call at once, one after another, before slowStartBatch
// returns.
func slowStartBatch(c *manager.Client, count int, fn func() error, done func(error)) {
	remaining := count
	var batch func(size int)
	batch = func(size int) {
		if size == 0 {
			done(nil)
			return
		}
		var first error
		c.SendAll(size, func(int) {
			if err := fn(); err != nil && first == nil {
				first = err
			}
		}, func() {
			if first != nil {
				done(first)
				return
			}
			remaining -= size
			batch(min(2*size, remaining))
		})
	}
	batch(min(remaining, slowStartInitialBatchSize))
}

// createError is a pod the API refused, already reported as a FailedCreate warning. Its
// message is the apiserver's, as in the ReplicaFailure condition of the real controller.
type createError struct{ err error }

func (e *createError) Error() string { return e.err.Error() }
func (e *createError) Unwrap() error { return e.err }
