// Package resourcequota is the resource quota controller on virtual time: it keeps each
// ResourceQuota's status (hard, and used as the real evaluators measure it) up to date, so that
// quota admission (sim/quota.go) charges new objects against the right usage and frees it again
// when pods end or go away.
package resourcequota
