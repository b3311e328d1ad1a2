package redact

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A configuration file adds rules of its own (redaction.rules): their
// patterns and flags are input too, and a rule that loads must redact
// what it says it does, whatever the command line holds.

// userRuleName is the name of the fuzzed rule, which no default rule has.
const userRuleName = "fuzz-user-rule"

// FuzzUserPattern: a user's pattern either fails to load with an error
// naming it, or redacts exactly the matches of its regular expression
// (its "secret" group when it has one). The keyword index and the
// literal prefilter that spare most strings the expression must never
// skip a string it matches.
func FuzzUserPattern(f *testing.F) {
	f.Add(`\bacme_[0-9a-f]{32}\b`, "token=acme_0123456789abcdef0123456789abcdef end")
	f.Add(`(?i)x-api-key: *(?P<secret>\S+)`, "curl -H 'X-API-KEY:  k3y' https://h")
	f.Add(`(?i)kelvin=\w+`, "\u212aELVIN=hot")
	f.Add(`(AKIA|ASIA)[A-Z0-9]{16}`, "AWS AKIAIOSFODNN7EXAMPLE")
	f.Add(`a*`, "baaab")
	f.Add(`(?s).`, "\xff\n")
	f.Add(`[`, "x")
	f.Add(`^$`, "")
	f.Fuzz(func(t *testing.T, expr, s string) {
		rule := Rule{Name: userRuleName, Pattern: expr}
		r, err := New([]Rule{rule})
		re, reErr := regexp.Compile(expr)
		if reErr != nil || expr == "" {
			require.ErrorContains(t, err, userRuleName)
			return
		}
		require.NoError(t, err)
		secret := max(re.SubexpIndex("secret"), 0)
		var spans []span
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			if m[2*secret] >= 0 {
				spans = append(spans, span{m[2*secret], m[2*secret+1]})
			}
		}
		want := replace(s, spans)
		require.Equal(t, want, r.String(s), "%q in %q", expr, s)
		require.Equal(t, []string{want}, r.Args("/bin/x", []string{s}), "%q in %q", expr, s)
	})
}

// FuzzUserFlag: a user's flag either fails to load with an error naming
// it, or its value is redacted in each of the places its rule says the
// value stands.
func FuzzUserFlag(f *testing.F) {
	f.Add("--deploy-key", "", "", "hunter2")
	f.Add("-p", "attached", "", "pw")
	f.Add("-P", "any", "zip", "pw")
	f.Add("--*password", "next", "", "s3cr3t")
	f.Add("aws_secret_access_key", "", "aws", "wJalrXUtnFEMI")
	f.Add("-token", "next", "vault login", "hvs.x")
	f.Add("---x", "", "", "v")
	f.Add("--a=b", "", "", "v")
	f.Add("--k", "sideways", "", "v")
	f.Fuzz(func(t *testing.T, flagText, form, program, secret string) {
		rule := Rule{Name: userRuleName, Flags: []string{flagText}, Value: ValueForm(form)}
		if program != "" {
			rule.Programs = []string{program}
		}
		r, err := New([]Rule{rule})
		fl, flagErr := parseFlag(flagText)
		if err != nil {
			require.ErrorContains(t, err, userRuleName)
			return
		}
		require.NoError(t, flagErr)
		if secret == "" || strings.HasPrefix(secret, "=") || separator(secret) {
			return // no value, or one that reads as something else
		}
		// The program, then the flag as a command line writes it.
		prog := "prog"
		if program != "" {
			prog = program
		}
		argv := strings.Fields(prog)
		if len(argv) == 0 || slices.ContainsFunc(argv, func(w string) bool {
			tok := parseToken(w)
			_, isFlag := fl.match(&tok)
			return isFlag || separator(w) || strings.HasSuffix(w, ";")
		}) {
			return // a program that reads as the flag, or ends its command
		}
		written := flagText
		if fl.suffix {
			written = strings.Repeat("-", fl.dashes) + "x-" + fl.name
		}

		check := func(args []string, i int, want string) {
			t.Helper()
			out := r.Args("/usr/bin/"+argv[0], args)
			require.Len(t, out, len(args))
			require.Equal(t, want, out[i], "rule %+v on %q", rule, args)
		}
		n, value := len(argv), cmp.Or(rule.Value, ValueNext)
		check(append(slices.Clone(argv), written+"="+secret), n, written+"="+Placeholder)
		if value != ValueAttached {
			check(append(slices.Clone(argv), written, secret), n+1, Placeholder)
		}
		if fl.short && value != ValueNext {
			check(append(slices.Clone(argv), written+secret), n, written+Placeholder)
		}
	})
}
