// Package stages is kwoksim's KWOK Stage engine: it decodes KWOK v1alpha1 Stage
// documents, decides which stage applies to an object, how long the transition
// waits, and renders the stage's steps as values.
//
// The package does no I/O, reads no clock and draws randomness only from the
// *rand.Rand it is handed, so a seeded simulation is reproducible; the
// simulator applies the effects (events, patches, deletions) itself, and stage
// files are read by package workloads/input, which hands ParseDocument their
// documents. KWOK's
// own lifecycle package is deliberately not used at run time: it draws from the
// global math/rand source and its templates read the wall clock.
package stages
