// Package sim runs a simulated cluster: an API layer over client-go's fake clientset that adds
// what an apiserver adds, the real kube-scheduler driven deterministically, and the event loop
// that owns virtual time.
package sim
