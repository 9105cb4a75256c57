//go:build race

package catalog_test

// raceEnabled skips the tests that measure memory on a large catalog: the
// race detector makes them take minutes and distorts what they measure.
const raceEnabled = true
