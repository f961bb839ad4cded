package replicaset

// createError is a pod the API refused, already reported as a FailedCreate warning. Its
// message is the apiserver's, as in the ReplicaFailure condition of the real controller.
type createError struct{ err error }

func (e *createError) Error() string { return e.err.Error() }
func (e *createError) Unwrap() error { return e.err }
