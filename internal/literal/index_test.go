package literal

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIndexScan checks the automaton against strings.Contains on random
// text made of the literals' letters.
func TestIndexScan(t *testing.T) {
	sets := [][]string{{"he", "she"}, {"his", "hers"}, {"ers"}, {"S"}, {"xyz"}, nil}
	x := NewIndex(sets)
	rng := rand.New(rand.NewPCG(1, 2))
	const letters = "hesirHESxyz -"
	for range 5000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		s := string(b)
		found := make([]uint64, 1)
		require.True(t, x.Scan(s, found))
		for id, set := range sets {
			want := false
			for _, w := range set {
				want = want || strings.Contains(strings.ToLower(s), strings.ToLower(w))
			}
			assert.Equal(t, want, found[0]&(1<<id) != 0, "%q set %d", s, id)
		}
	}
	require.False(t, x.Scan("\u017Fhe", make([]uint64, 1)), "ſ is an s the index does not see")
}
