package sim

// ProgressEvery is how many events pass between two calls of Config.Progress: often enough
// for a display (a slow event, a status patch with its stages, takes about half a millisecond),
// rare enough to cost nothing.
const ProgressEvery = 256
