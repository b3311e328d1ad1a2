package literal

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exprs are expressions of recipes and redaction rules, and a few of the
// shapes the analysis treats apart.
var exprs = []string{
	`(?i)password|passphrase|(^|[^/a-z])passwd`,
	`(?i)(^|[^a-z])secrets?([^a-z]|$)`,
	`(?i)api[_-]?keys?|apikey|access[_-]?keys?`,
	`(?i)key`,
	`(^|/)\.ssh/(id_[a-z0-9_]+|identity)$`,
	`^(--user=|-u=?)?[48][0-9AB]`,
	`(^|//|@|:|=)([1-9]|[1-9][0-9]|1[0-9][0-9])\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}($|[:/])`,
	`(?i)^(-[0-9a-z]*[ceprb]|-$|--?(eval|print)(=|$)|eval$)`,
	`^(python|pypy)[0-9.]*$`,
	`(?i)^(cpuminer|xmrig|xmr-stak)[-_.]`,
	`(?i)\b[a-z][a-z0-9+.-]*://[^/?#@\s:]*:(?P<secret>[^/?#\s]+)@`,
	`\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`,
	`\bxox[abeoprs]-[A-Za-z0-9-]{10,}`,
	`(?i)x+(?:ab|c[d-f])+-?[0-9]`,
	`[0-9]{3}-[0-9]{4}`,
	`(?i)[pq]s+[0-9]`,
	`(?i)gh[pousr]_`, `(?i)x-[a-z]*-?(api|s)`,
	`(abc)+`, `a*`, `x{2,}`, `[^a]`, `.`,
}

// TestNeedsKeepEveryMatch checks that the filter never rules out a string
// its expression matches, on chosen strings and on random ones made of
// the expressions' own characters, and that it rules out what it should.
func TestNeedsKeepEveryMatch(t *testing.T) {
	inputs := []string{
		"", "password", "PassWord=1", "my_api-key", "APIKEY", "x/.ssh/id_rsa", "/etc/passwd", "secret",
		"ſecret", "\u212Aey", "key", "tokens", "--user=4", "stratum+tcp://pool", "1.2.3.4", "https://example.com/a.tgz",
		"v1.2.3", "-c", "-m", "eval", "-pe", "python3.11", "PYTHON", "xmrig-6.21", "XMRig.x", "abcabc", "b",
		"https://u:p@h", "AKIA0123456789ABCDEF", "xoxb-0123456789", "XXaBcE-7", "PSs9", "555-1234",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const chars = "aAbBcCdDeEgGhHkKpPsSxX019-_.:/@ \u212Aſ"
	for range 20000 {
		inputs = append(inputs, randomString(rng, chars, 14))
	}
	for _, expr := range exprs {
		re := regexp.MustCompile(expr)
		f, err := NewFilter(expr)
		require.NoError(t, err)
		tree, err := syntax.Parse(expr, syntax.Perl)
		require.NoError(t, err)
		var own []string // strings made to match, alone and in random context
		for range 1000 {
			m := generate(rng, tree)
			own = append(own, m, randomString(rng, chars, 3)+m+randomString(rng, chars, 3))
		}
		matched := 0
		for _, s := range append(own, inputs...) {
			if re.MatchString(s) {
				matched++
				require.True(t, f.Pass(s), "%q rules out %q, which matches", expr, s)
			}
		}
		require.Greater(t, matched, 500, expr)
	}
	f, err := NewFilter(`(?i)password|passphrase|(^|[^/a-z])passwd`)
	require.NoError(t, err)
	require.False(t, f.Pass("s/VERSION/1.2.3/"))
	f, err = NewFilter(`(^|//|@)([1-9]|[1-9][0-9])\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}`)
	require.NoError(t, err)
	require.False(t, f.Pass("https://example.com/tool.tgz"), "no digit")
	f, err = NewFilter(`(?i)\b[a-z]+://[^@]*:(?P<secret>[^@]+)@\d`)
	require.NoError(t, err)
	require.False(t, f.Pass("https://example.com:8080/a@b"), "no digit after @")
}

// TestNeedsAroundTheReplacementCharacter: Go's regexp matches a U+FFFD of
// the expression against any byte that is not valid UTF-8, so a match
// needs the text around it but not its encoding.
func TestNeedsAroundTheReplacementCharacter(t *testing.T) {
	for _, expr := range []string{"\uFFFD", "ab\uFFFDcd", `(?i)x\x{FFFD}\x{FFFD}Y`} {
		re := regexp.MustCompile(expr)
		f, err := NewFilter(expr)
		require.NoError(t, err)
		for _, s := range []string{"\xff", "ab\xe8cd", "-X\xac\xb4y-", "ab\uFFFDcd"} {
			if re.MatchString(s) {
				require.True(t, f.Pass(s), "%q rules out %q, which matches", expr, s)
			}
		}
	}
	f, err := NewFilter("ab\uFFFDcd")
	require.NoError(t, err)
	require.Equal(t, []Need{{Lits: []string{"ab"}}, {Lits: []string{"cd"}}}, f.Needs())
	require.False(t, f.Pass("ab\xff-"))
}

// randomString returns up to max-1 characters of chars.
func randomString(rng *rand.Rand, chars string, max int) string {
	r := []rune(chars)
	b := make([]rune, rng.IntN(max))
	for i := range b {
		b[i] = r[rng.IntN(len(r))]
	}
	return string(b)
}

// generate returns a string that re matches but for its anchors, with
// letters in any of their cases where re ignores case.
func generate(rng *rand.Rand, re *syntax.Regexp) string {
	var b strings.Builder
	repeat := func(least, most int) {
		if most < 0 {
			most = least + 3
		}
		for range least + rng.IntN(most-least+1) {
			b.WriteString(generate(rng, re.Sub[0]))
		}
	}
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				for range rng.IntN(3) {
					r = unicode.SimpleFold(r)
				}
			}
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		i := 2 * rng.IntN(len(re.Rune)/2)
		lo, hi := re.Rune[i], min(re.Rune[i+1], re.Rune[i]+200)
		b.WriteRune(lo + rune(rng.IntN(int(hi-lo)+1)))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('a' + byte(rng.IntN(26)))
	case syntax.OpCapture:
		b.WriteString(generate(rng, re.Sub[0]))
	case syntax.OpStar:
		repeat(0, -1)
	case syntax.OpPlus:
		repeat(1, -1)
	case syntax.OpQuest:
		repeat(0, 1)
	case syntax.OpRepeat:
		repeat(re.Min, re.Max)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			b.WriteString(generate(rng, sub))
		}
	case syntax.OpAlternate:
		b.WriteString(generate(rng, re.Sub[rng.IntN(len(re.Sub))]))
	}
	return b.String()
}

// TestNeeds checks the most selective need found for expressions.
func TestNeeds(t *testing.T) {
	for _, tt := range []struct {
		expr string
		want Need // the first need; zero for none
	}{
		{`(?i)\b(?:proxy-)?authorization\s*:`, Need{Lits: []string{"authorization"}, Fold: true}},
		{`\bgh[pousr]_[A-Za-z0-9]{36}`, Need{Lits: []string{"ghp_", "gho_", "ghr_", "ghs_", "ghu_"}}},
		{`(?i)AKIA|asia`, Need{Lits: []string{"akia", "asia"}, Fold: true}},
		{`\b(?:A3T[A-Z0-9]|AKIA|ASIA)[A-Z0-9]{16}`, Need{Lits: []string{"A3T", "AKIA", "ASIA"}}},
		{`\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{22})`, Need{Lits: []string{"ghp_", "gho_", "ghr_", "ghs_", "ghu_", "github_pat_"}}},
		{`x+(?:abc|defg)+`, Need{Lits: []string{"abc", "defg"}}},
		{`[0-9]{3}-[0-9]{4}`, Need{Lits: []string{"-0", "-1", "-2", "-3", "-4", "-5", "-6", "-7", "-8", "-9"}}},
		{`(?i)gh[pousr]_`, Need{Lits: []string{"ghp_", "gho_", "ghr_", "ghs_", "ghu_"}, Fold: true}},
		{`(?i)://`, Need{Lits: []string{"://"}}}, // no letter: compared as written
		{`[0-9]+`, Need{Lits: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}},
		{`[0-9a-f]+`, Need{}},
		{`(?i)straße`, Need{}}, // Unicode folding is not a literal search's
	} {
		re, err := syntax.Parse(tt.expr, syntax.Perl)
		require.NoError(t, err)
		var got Need
		if needs := Needs(re); len(needs) > 0 {
			got = needs[0]
		}
		assert.Equal(t, tt.want.Fold, got.Fold, tt.expr)
		assert.ElementsMatch(t, tt.want.Lits, got.Lits, tt.expr)
	}
}

func TestCombinators(t *testing.T) {
	require.Nil(t, OneOf("a", ""), "every string contains the empty one")
	require.Equal(t, []Need{{Lits: []string{"ab"}}}, OneOf("ab", "xaby", "ab"))
	a, b, c := OneOf("x"), OneOf("long"), OneOf("mid")
	require.Equal(t, []Need{{Lits: []string{"long"}}, {Lits: []string{"mid"}}, {Lits: []string{"x"}}}, AllOf(AllOf(a, b), c))
	require.Len(t, AllOf(AllOf(a, b), AllOf(c, OneOf("y"))), maxNeeds)
	require.Equal(t, []Need{{Lits: []string{"long", "mid"}}}, EitherOf(AllOf(b, a), c))
	require.Equal(t, []Need{{Lits: []string{"long", "mid"}, Fold: true}}, EitherOf(b, []Need{{Lits: []string{"mid"}, Fold: true}}))
	require.Nil(t, EitherOf(a, nil))
}
