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
	"slices"
	"strings"

	"github.com/vigil-otel/vigil/internal/literal"
)

// Placeholder replaces each secret.
const Placeholder = "[REDACTED]"

// Redactor replaces secrets with Placeholder. Make one with [New] or
// [Config.Redactor]; the zero Redactor redacts nothing.
type Redactor struct {
	patterns []*pattern     // of the rules with a Pattern and no Flags
	flags    *ruleIndex     // of the rules with Flags, or with Programs
	kw       *literal.Index // which rules may match a string; see pattern.go
	always   []uint64       // rules that no keyword gates: always candidates
	folded   []uint64       // and those whose keywords ignore case, for a string beyond ASCII
}

// New compiles rules into a Redactor. The rules are used as given: to add
// rules to the defaults, pass append(Default(), more...), or use
// [Config.Redactor]. The error names the first bad rule by its index and
// name.
func New(rules []Rule) (*Redactor, error) {
	r := &Redactor{}
	var flags []flagRule
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
		flags = append(flags, fr)
		flagKW = append(flagKW, fr.keywords())
	}
	r.flags = newRuleIndex(flags)
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
	found := r.flags.walk(nil, exe, args, nil)
	if !slices.IsSortedFunc(found, byToken) {
		slices.SortStableFunc(found, byToken)
	}
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
	var flagBuf [2]uint64
	var flags ruleSet // the candidates among the rules with Flags or Programs
	for id := range ruleSet(cand).all() {
		if id < len(r.patterns) {
			dst = r.patterns[id].find(s, 0, dst)
			continue
		}
		if flags == nil {
			flags = newRuleSet(len(r.flags.flags), flagBuf[:0])
		}
		flags.add(id - len(r.patterns))
	}
	if flags != nil {
		dst = r.flags.flagSpans(flags, s, 0, maxNesting, dst)
	}
	return dst
}

// byToken orders hits by their token.
func byToken(a, b hit) int { return a.tok - b.tok }

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
