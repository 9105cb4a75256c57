//go:build !race

package release

// raceEnabled is false in a normal test run; see race_test.go.
const raceEnabled = false
