// Package redact removes secrets from the strings vigil exports and makes
// those strings safe to show.
//
// A process controls its own command line, executable path, working
// directory and environment, and these often carry credentials: a database
// password after -p, a token in a clone URL, an Authorization header given
// to curl. Before such a string leaves the machine it goes through a
// [Redactor], then through [Clean]:
//
//   - [Redactor.Args] and [Redactor.String] replace each secret a rule
//     recognises with [Placeholder] and leave the rest as it was, so that
//     the command line stays readable: flag names, user and host names,
//     program names and the shape of the command are kept.
//   - [Clean] returns valid UTF-8 with control characters escaped, at most
//     a given number of bytes long.
//
// Redact first, then Clean: a secret cut in two by the length bound could
// otherwise slip past the rule that recognises it whole.
//
// Guarantees:
//
//   - No input makes either panic: huge, binary, invalid UTF-8, NULs and
//     control characters are all ordinary input. Time is linear in the
//     length of the input (RE2 regular expressions, no backtracking).
//   - Args never modifies its argument; it returns a new slice. A string
//     with nothing to redact is returned as it came, without a copy.
//   - A Redactor is safe for concurrent use.
//
// Redaction is best effort: the rules recognise secrets by where they stand
// (after --password, in a URL's user information, in an Authorization
// header, in a PASSWORD= assignment) or by their published format (AWS,
// GitHub, GitLab, Slack, Stripe, ... tokens, JWTs, private key blocks). A
// secret of an unknown format in an unknown place is exported as it is;
// rules of one's own cover those (see [Rule] and [Config]).
package redact

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/vigil-otel/vigil/internal/literal"
)

// Placeholder replaces each secret.
const Placeholder = "[REDACTED]"

// Rule says what a secret looks like. It has a Pattern, Flags, or both.
//
// In a configuration file a rule is written in YAML, for example:
//
//	name: vault-login
//	flags: ["-token"]   # also matches --token
//	programs: [vault]
type Rule struct {
	// Name identifies the rule in errors and in [Config.Disable]. It is
	// required and unique among the rules given to [New].
	Name string `yaml:"name"`

	// Pattern is a regular expression in the syntax of package regexp.
	//
	// Alone, it is searched for in every string and every argument: the
	// part of each match captured by the group named "secret", or the
	// whole match when there is no such group, is replaced. Use (?i) for
	// case-insensitive matching.
	//
	// With Flags, it is searched for only in the value of one of the
	// flags, and picks the part of that value that is secret: for
	// curl -u user:password, the pattern :(?P<secret>.+) keeps the user.
	//
	// With Programs and no Flags, it is searched for in each argument
	// (or word) that follows one of the programs in its command, each
	// argument on its own: a secret that no option introduces, as the
	// password in Impacket's DOMAIN/user:password@host. Anchor it (^…$)
	// to test whole arguments.
	Pattern string `yaml:"pattern,omitempty"`

	// Flags are the options whose value is secret, written with their
	// leading dashes:
	//
	//   - "--password" matches --password and -password, and takes its
	//     value from --password=VALUE or from the next argument (see
	//     Value). Names compare without regard to case, and "-" and "_"
	//     are the same letter: --api-key matches --API_KEY.
	//   - "--*password" (a "*" after the dashes) matches every name that
	//     ends so: --db-password, --ftp-password, but not --password-file,
	//     nor a negation such as --no-password.
	//   - "-p", one letter after one dash, is a short option: it is
	//     case-sensitive (-P is often something else) and its value may
	//     also be attached, -pVALUE, when Value allows it.
	//   - A name without dashes matches a bare word, as in
	//     aws configure set aws_secret_access_key VALUE.
	//
	// Flags are found both among the elements of argv and among the words
	// of a single string, such as the script of sh -c, where a quoted
	// value ('a b' or "a b") counts as one word.
	Flags []string `yaml:"flags,omitempty"`

	// Value says where a flag's value stands; empty means [ValueNext].
	Value ValueForm `yaml:"value,omitempty"`

	// Programs limits a rule to the command lines of these programs,
	// named by the base name of their executable (mysql, not
	// /usr/bin/mysql). A program counts when it is the executable, argv[0],
	// or any earlier argument of the same command, so that sudo mysql -p…
	// and docker exec db mysql -p… are covered; in a string, an earlier
	// word since the last ;, |, & or && counts. A program may be followed
	// by subcommand words: "docker login" counts when a later argument of
	// the same command, before the flag, is login, so that docker login's
	// -p is a password and docker run's a port. Without Programs a rule
	// applies to every program. With a Pattern and no Flags, the pattern
	// is tried on the arguments that follow the program (see Pattern).
	Programs []string `yaml:"programs,omitempty"`
}

// ValueForm says where the value of a flag stands.
type ValueForm string

const (
	// ValueNext: --flag=VALUE, or --flag VALUE with the value as the next
	// argument (or word).
	ValueNext ValueForm = "next"
	// ValueAttached: --flag=VALUE, or -fVALUE for a one-letter flag; never
	// the next argument. This is mysql's -p: alone it makes mysql prompt
	// for the password, and the next argument is the database name.
	ValueAttached ValueForm = "attached"
	// ValueAny: any of --flag=VALUE, --flag VALUE and -fVALUE (sshpass -p).
	ValueAny ValueForm = "any"
)

// Redactor replaces secrets with Placeholder. Make one with [New] or
// [Config.Redactor]; the zero Redactor redacts nothing.
type Redactor struct {
	patterns []*pattern     // of the rules with a Pattern and no Flags
	flags    []flagRule     // rules with Flags, or with Programs
	letters  *letters       // of the flags of them all
	kw       *literal.Index // which rules may match a string; see pattern.go
	always   []uint64       // rules that no keyword gates: always candidates
	folded   []uint64       // and those whose keywords ignore case, for a string beyond ASCII
}

// New compiles rules into a Redactor. The rules are used as given: to add
// rules to the defaults, pass append(Default(), more...), or use
// [Config.Redactor]. The error names the first bad rule by its index and
// name.
func New(rules []Rule) (*Redactor, error) {
	r := &Redactor{letters: &letters{}}
	seen := make(map[string]bool, len(rules))
	var patternKW, flagKW [][]string
	var folded []int // the rules whose keywords ignore case
	for i, rule := range rules {
		if err := validate(rule, seen); err != nil {
			return nil, fmt.Errorf("redaction rule %d (%q): %w", i, rule.Name, err)
		}
		seen[rule.Name] = true
		var p *pattern
		if rule.Pattern != "" {
			var err error
			if p, err = compile(rule.Pattern); err != nil {
				return nil, fmt.Errorf("redaction rule %d (%q): pattern: %w", i, rule.Name, err)
			}
		}
		if len(rule.Flags) == 0 && len(rule.Programs) == 0 {
			lits, fold := p.keywords()
			if fold {
				folded = append(folded, len(r.patterns))
			}
			r.patterns = append(r.patterns, p)
			patternKW = append(patternKW, lits)
			continue
		}
		fr := newFlagRule(rule, p)
		r.flags = append(r.flags, fr)
		r.letters.add(fr.flags)
		flagKW = append(flagKW, fr.keywords())
	}
	// Candidate bits: pattern rules first, then flag rules.
	all := append(patternKW, flagKW...)
	r.always = make([]uint64, (len(all)+63)/64)
	for id, lits := range all {
		if len(lits) == 0 {
			r.always[id/64] |= 1 << (id % 64)
		}
	}
	r.folded = slices.Clone(r.always)
	for _, id := range folded {
		r.folded[id/64] |= 1 << (id % 64)
	}
	r.kw = literal.NewIndex(all)
	return r, nil
}

// validate reports what is wrong with one rule, given the names of those
// before it.
func validate(rule Rule, seen map[string]bool) error {
	switch {
	case rule.Name == "":
		return fmt.Errorf("no name")
	case seen[rule.Name]:
		return fmt.Errorf("a rule of that name comes earlier")
	case rule.Pattern == "" && len(rule.Flags) == 0:
		return fmt.Errorf("neither pattern nor flags")
	}
	switch rule.Value {
	case "", ValueNext, ValueAttached, ValueAny:
	default:
		return fmt.Errorf("value %q: want %q, %q or %q", rule.Value, ValueNext, ValueAttached, ValueAny)
	}
	for _, f := range rule.Flags {
		if _, err := parseFlag(f); err != nil {
			return err
		}
	}
	for _, p := range rule.Programs {
		if words := strings.Fields(p); len(words) == 0 || strings.ContainsRune(words[0], '/') {
			return fmt.Errorf("program %q: want a base name such as mysql, or one and its subcommand such as \"docker login\"", p)
		}
	}
	return nil
}

// Args returns argv with its secrets replaced, as a new slice; args itself
// is left as it is. exe is the executable's path, which names the program
// for rules limited to some Programs; it is not redacted (use String).
// A flag and its value may be separate elements: in
// [mysql --password hunter2] the third element becomes Placeholder.
func (r *Redactor) Args(exe string, args []string) []string {
	out := slices.Clone(args)
	if r == nil || r.kw == nil {
		return out
	}
	found := walk(r.flags, r.letters, exe, args, nil) // in the order of their tokens
	// One buffer for the spans of every argument: replace keeps none.
	var buf [8]span
	for i, a := range args {
		spans := r.spans(a, buf[:0])
		for ; len(found) > 0 && found[0].tok == i; found = found[1:] {
			spans = append(spans, found[0].span)
		}
		if len(spans) > 0 {
			out[i] = replace(a, spans)
		}
	}
	return out
}

// String returns s with its secrets replaced: one value such as an
// environment variable's, a path, or a whole command line. Flags and their
// values are looked for among its words.
func (r *Redactor) String(s string) string {
	if r == nil || r.kw == nil {
		return s
	}
	var buf [8]span
	if spans := r.spans(s, buf[:0]); len(spans) > 0 {
		return replace(s, spans)
	}
	return s
}

// spans appends to dst the byte ranges of s that hold secrets, in no
// particular order and possibly overlapping.
func (r *Redactor) spans(s string, dst []span) []span {
	var small [4]uint64
	var cand []uint64
	if len(r.always) <= len(small) {
		cand = small[:len(r.always)]
	} else {
		cand = make([]uint64, len(r.always))
	}
	copy(cand, r.always)
	if !r.kw.Scan(s, cand) {
		// Unicode may write a keyword in a case the index does not see.
		for i := range cand {
			cand[i] |= r.folded[i]
		}
	}
	var flagBuf [16]flagRule // room for the default rules with Flags, and some
	flags := flagBuf[:0]
	for w, word := range cand {
		for word != 0 {
			id := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if id >= len(r.patterns) {
				flags = append(flags, r.flags[id-len(r.patterns)])
				continue
			}
			dst = r.patterns[id].find(s, 0, dst)
		}
	}
	if len(flags) > 0 {
		dst = flagSpans(flags, r.letters, s, 0, maxNesting, dst)
	}
	return dst
}

// maxNesting bounds how deep flagSpans looks into quoted words, as in
// sh -c "su -c 'mysql -p…'".
const maxNesting = 3

// flagSpans appends to dst the spans of the values of flags among the
// words of s, which begins at offset off of the string being redacted. A
// quoted word with several words inside, such as the script of
// sh -c '…', is looked into in turn, up to depth levels.
func flagSpans(flags []flagRule, lets *letters, s string, off, depth int, dst []span) []span {
	var wordBuf [16]string // most scripts are short: no allocation
	var offBuf [16]int
	words, offs := shellWords(s, wordBuf[:0], offBuf[:0])
	for _, h := range walk(flags, lets, "", words, nil) {
		dst = append(dst, span{off + offs[h.tok] + h.start, off + offs[h.tok] + h.end})
	}
	if depth--; depth > 0 {
		for i, w := range words {
			// shellWords strips the quotes around a whole word only.
			quoted := offs[i] > 0 && (s[offs[i]-1] == '\'' || s[offs[i]-1] == '"')
			if quoted && strings.ContainsAny(w, " \t\n") {
				dst = flagSpans(flags, lets, w, off+offs[i], depth, dst)
			}
		}
	}
	return dst
}

// span is the byte range [start, end) of a string.
type span struct{ start, end int }

// replace returns s with each of spans replaced by Placeholder, overlapping
// and adjacent spans merged into one.
func replace(s string, spans []span) string {
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(s) + len(Placeholder))
	last := 0 // end of the text written so far
	for i := 0; i < len(spans); {
		sp := spans[i]
		for i++; i < len(spans) && spans[i].start <= sp.end; i++ {
			sp.end = max(sp.end, spans[i].end)
		}
		if sp.start >= sp.end {
			continue
		}
		b.WriteString(s[last:sp.start])
		b.WriteString(Placeholder)
		last = sp.end
	}
	if last == 0 {
		return s // only empty spans
	}
	b.WriteString(s[last:])
	return b.String()
}
