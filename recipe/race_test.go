//go:build race

package recipe

// raceEnabled says the race detector runs. It makes sync.Pool drop values
// at random, so the regexp package allocates the machines it pools: the
// allocation counts mean nothing then.
const raceEnabled = true
