// Package analysis turns what a simulation observed into its report: statistics, tables and
// the JSON contract. It imports no client or scheduler code.
package analysis
