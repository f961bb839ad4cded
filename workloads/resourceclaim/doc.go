// Package resourceclaim is kube-controller-manager's resource claim controller on virtual
// time: it creates a pod's ResourceClaims from its ResourceClaimTemplates, records them in
// the pod's status, reserves an allocated claim for a pod bound without the scheduler, and,
// once a claim's consumers are gone or done, removes them from status.reservedFor,
// deallocates it and deletes the claims it generated.
package resourceclaim
