//go:build race

package clock

// raceEnabled scales down tests whose point is volume: the race detector
// slows every memory access and lock by an order of magnitude or more.
const raceEnabled = true
