//go:build race

package catalogserver_test

// raceEnabled skips what measures memory: the race detector's own
// allocations per goroutine distort it.
const raceEnabled = true
