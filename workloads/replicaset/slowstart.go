package replicaset

// slowStartInitialBatchSize is controller.SlowStartInitialBatchSize.
const slowStartInitialBatchSize = 1

// slowStartBatch is the real controller's slowStartBatch (pkg/controller/replicaset): it
// calls fn count times in batches of 1, 2, 4, …, and stops after the first batch in which a
// call failed, returning that batch's first error. The real controller runs a batch's calls
// on goroutines of their own; here they run one after another, in order, so that the
// generated names, UIDs and the order of the writes do not depend on the Go scheduler.
func slowStartBatch(count int, fn func() error) error {
	remaining := count
	for batch := min(remaining, slowStartInitialBatchSize); batch > 0; batch = min(2*batch, remaining) {
		var first error
		for range batch {
			if err := fn(); err != nil && first == nil {
				first = err
			}
		}
		if first != nil {
			return first
		}
		remaining -= batch
	}
	return nil
}

// createError is a pod the API refused, already reported as a FailedCreate warning. Its
// message is the apiserver's, as in the ReplicaFailure condition of the real controller.
type createError struct{ err error }

func (e *createError) Error() string { return e.err.Error() }
func (e *createError) Unwrap() error { return e.err }
