package redact

import (
	"math/rand/v2"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequired(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{`(?i)\b(?:proxy-)?authorization\s*:`, []string{"authorization"}},
		{`\bgh[pousr]_[A-Za-z0-9]{36}`, []string{"ghp_", "gho_", "ghr_", "ghs_", "ghu_"}},
		{`(?i)AKIA|asia`, []string{"akia", "asia"}},
		{`\b(?:A3T[A-Z0-9]|AKIA|ASIA)[A-Z0-9]{16}`, []string{"a3t", "akia", "asia"}},
		{`\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{22})`, []string{"ghp_", "gho_", "ghr_", "ghs_", "ghu_", "github_pat_"}},
		{`x+(?:abc|defg)+`, []string{"abc", "defg"}},
		{`[0-9]{3}-[0-9]{4}`, []string{"-0", "-1", "-2", "-3", "-4", "-5", "-6", "-7", "-8", "-9"}},
		{`[0-9]+`, nil},
		{`a|[0-9]+`, nil},
		{`(?i)straße`, nil}, // non-ASCII folding is not the automaton's
	}
	for _, tt := range tests {
		tree, err := syntax.Parse(tt.pattern, syntax.Perl)
		require.NoError(t, err)
		assert.ElementsMatch(t, tt.want, required(tree), tt.pattern)
	}
}

func TestMusts(t *testing.T) {
	tree, err := syntax.Parse(`(?i)\b[a-z]+://[^@]*:(?P<secret>[^@]+)@\d`, syntax.Perl)
	require.NoError(t, err)
	assert.Equal(t, []string{"://", ":", "@"}, musts(tree))
}

// TestKeywordsScan checks the automaton against strings.Contains on
// random text made of the keywords' letters.
func TestKeywordsScan(t *testing.T) {
	lits := [][]string{{"he", "she"}, {"his", "hers"}, {"ers"}, {"S"}, {"xyz"}}
	k := newKeywords(lits)
	rng := rand.New(rand.NewPCG(1, 2))
	const letters = "hesirHESxyz -"
	for range 5000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		s := string(b)
		cand := make([]uint64, 1)
		k.scan(s, cand)
		for id, set := range lits {
			want := false
			for _, w := range set {
				want = want || strings.Contains(strings.ToLower(s), strings.ToLower(w))
			}
			assert.Equal(t, want, cand[0]&(1<<id) != 0, "%q rule %d", s, id)
		}
	}
}
