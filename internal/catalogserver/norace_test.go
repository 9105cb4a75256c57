//go:build !race

package catalogserver_test

// raceEnabled is false in a normal test run; see race_test.go.
const raceEnabled = false
