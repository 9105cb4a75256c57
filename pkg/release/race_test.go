//go:build race

package release

// raceEnabled skips tests that measure speed: the race detector slows
// registry round trips several times over.
const raceEnabled = true
