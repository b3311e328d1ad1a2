//go:build !race

package recipe

// raceEnabled says the race detector runs (see race_test.go).
const raceEnabled = false
