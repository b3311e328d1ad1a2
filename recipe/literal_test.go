package recipe

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRegexFilterKeepsEveryMatch checks that the prefilter never rules out
// a string its expression matches, and that it rules out what it should.
func TestRegexFilterKeepsEveryMatch(t *testing.T) {
	inputs := []string{
		"", "password", "PassWord=1", "my_api-key", "APIKEY", "x/.ssh/id_rsa", "/etc/passwd", "secret",
		"ſecret", "\u212Aey", "key", "tokens", "--user=4", "stratum+tcp://pool", "1.2.3.4", "https://example.com/a.tgz",
		"v1.2.3", "-c", "-m", "eval", "-pe", "python3.11", "PYTHON", "xmrig-6.21", "XMRig.x", "abcabc", "b",
	}
	for _, expr := range []string{
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
		`(abc)+`, `a*`, `x{2,}`, `[^a]`, `.`,
	} {
		re := regexp.MustCompile(expr)
		f, err := newRegexFilter(expr)
		require.NoError(t, err)
		for _, s := range inputs {
			if re.MatchString(s) {
				require.True(t, f.pass(s), "%q rules out %q, which matches", expr, s)
			}
		}
	}
	f, err := newRegexFilter(`(?i)password|passphrase|(^|[^/a-z])passwd`)
	require.NoError(t, err)
	require.False(t, f.pass("s/VERSION/1.2.3/"))
	f, err = newRegexFilter(`(^|//|@)([1-9]|[1-9][0-9])\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}`)
	require.NoError(t, err)
	require.False(t, f.pass("https://example.com/tool.tgz"), "no digit")
}

func TestLitSet(t *testing.T) {
	s := newLitSet([]string{"stratum+tcp://", "nicehash.", "ab"}, false, false)
	require.True(t, s.contains("x stratum+tcp://y"))
	require.True(t, s.contains("xab"))
	require.False(t, s.contains("a"))
	require.True(t, s.hasPrefix("abc"))
	require.False(t, s.hasPrefix("cab"))
	suffixes := newLitSet([]string{".py", "/hammer.py", ".pl"}, false, true)
	require.True(t, suffixes.hasSuffix("x/hammer.py"))
	require.True(t, suffixes.hasSuffix("a.pl"))
	require.False(t, suffixes.hasSuffix("a.pyc"))
	folded := newLitSet([]string{"token", "secret"}, true, false)
	require.True(t, folded.contains("GH_TOKEN"))
	require.True(t, folded.contains("héllo"), "beyond ASCII, case folding may match: the regex decides")
	require.False(t, folded.contains("hello"))
}

func TestArgsNeedsOfCEL(t *testing.T) {
	scope, err := newCELScope()
	require.NoError(t, err)
	for expr, want := range map[string][][]string{
		`args.exists(a, a.matches("^--pass(word)?="))`:                   {{"--pass=", "--password="}},
		`args.exists(a, a.startsWith("LD_")) || "-x" in args`:            {{"-x", "LD_"}},
		`[1, 2].exists(i, i < args.size() && args[i] == "eval") && true`: {{"eval"}},
		`name == "x" || args.exists(a, a == "y")`:                        nil,
		`args.all(a, a == "y")`:                                          nil,
		`[1].exists(args, args == 1) && cwd == "/"`:                      nil,
	} {
		_, needs, err := compileCEL(scope, expr)
		require.NoError(t, err, expr)
		var got [][]string
		for _, n := range needs {
			got = append(got, n.lits)
		}
		require.Equal(t, want, got, expr)
	}
}
