package redact

import (
	"fmt"
	"strings"
)

// flag is one entry of Rule.Flags, parsed.
type flag struct {
	name   string // without dashes and "*"; lower case with "_" as "-" unless short
	dashes int    // as written: 0, 1 or 2
	suffix bool   // written with "*": any name that ends in name
	short  bool   // one letter after one dash: case-sensitive, value may be attached
}

// parseFlag parses one entry of Rule.Flags.
func parseFlag(f string) (flag, error) {
	name := strings.TrimLeft(f, "-")
	fl := flag{dashes: len(f) - len(name)}
	name, fl.suffix = strings.CutPrefix(name, "*")
	if fl.dashes > 2 || name == "" || strings.ContainsAny(name, "*= \t\n") || separator(f) {
		return flag{}, fmt.Errorf("flag %q: want a name such as --password, --*password, -p or aws_secret_access_key", f)
	}
	fl.short = fl.dashes == 1 && len(name) == 1 && !fl.suffix
	fl.name = name
	if !fl.short {
		// As sameName compares: strings.ToLower would also fold letters
		// beyond ASCII (and turn a stray byte into U+FFFD), which no
		// argument would then match.
		b := []byte(name)
		for i, c := range b {
			b[i] = foldByte(c)
		}
		fl.name = string(b)
	}
	return fl, nil
}

// token is an argument or word, split as an option: dashes, then a name
// up to the first "=".
type token struct {
	s      string
	dashes int  // leading dashes, up to 3
	end    int  // end of the name: the index of "=", or len(s)
	neg    bool // the name starts with "no-", as psql's --no-password
}

// parseToken splits a; walk does it once for all the flags it tries.
func parseToken(a string) token {
	t := token{s: a, end: len(a)}
	for t.dashes < len(a) && t.dashes < 3 && a[t.dashes] == '-' {
		t.dashes++
	}
	if eq := strings.IndexByte(a, '='); eq >= 0 {
		t.end = eq
	}
	t.neg = t.end-t.dashes > 3 && sameName(a[t.dashes:t.dashes+3], "no-")
	return t
}

// match reports whether t is this flag, and if so the index in t.s where
// what follows the flag's name begins: "=VALUE", an attached value, or
// nothing.
func (f *flag) match(t *token) (rest int, ok bool) {
	switch d := t.dashes; {
	case f.dashes == 2 && d != 1 && d != 2, f.dashes < 2 && d != f.dashes:
		return 0, false
	case f.short:
		return 2, len(t.s) >= 2 && t.s[1] == f.name[0]
	}
	n := t.s[t.dashes:t.end]
	if f.suffix && len(n) > len(f.name) {
		if t.neg {
			return 0, false // a negation takes no value
		}
		n = n[len(n)-len(f.name):]
	}
	return t.end, sameName(n, f.name)
}

// sameName reports whether the flag name n, as written in an argument, is
// name: ASCII case and the difference between "_" and "-" do not count.
func sameName(n, name string) bool {
	if len(n) != len(name) {
		return false
	}
	for i := 0; i < len(n); i++ {
		if foldByte(n[i]) != name[i] {
			return false
		}
	}
	return true
}

// foldByte writes a byte of a flag name as names compare: an ASCII letter
// in lower case, "_" as "-".
func foldByte(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	case c == '_':
		return '-'
	}
	return c
}

// flagRule is a compiled rule with Flags, or with Programs and a Pattern
// but no Flags: an argument rule.
type flagRule struct {
	flags    []flag
	letters  *letters // of flags
	form     ValueForm
	programs [][]string // each a program's name and subcommand words
	pattern  *pattern   // picks the secret within the value; nil: all of it
	// arguments marks an argument rule: no flags, and the pattern is
	// tried on every argument that follows one of the programs.
	arguments bool
	// bundle holds the one-letter options without a value that may come
	// before a one-letter flag in one token (Rule.Bundle).
	bundle string
}

// newFlagRule compiles a rule that validate has accepted.
func newFlagRule(rule Rule, p *pattern) flagRule {
	fr := flagRule{form: rule.Value, pattern: p, arguments: len(rule.Flags) == 0, bundle: rule.Bundle}
	for _, prog := range rule.Programs {
		fr.programs = append(fr.programs, strings.Fields(prog))
	}
	if fr.form == "" {
		fr.form = ValueNext
	}
	for _, f := range rule.Flags {
		fl, _ := parseFlag(f) // validated
		fr.flags = append(fr.flags, fl)
	}
	fr.letters = &letters{}
	fr.letters.add(fr.flags, fr.bundle)
	return fr
}

// bundled reports whether t is a bundle of one-letter options (see
// Rule.Bundle) in which the letter c follows letters of fr.bundle only,
// and if so the index in t.s of what follows c.
func (fr *flagRule) bundled(t *token, c byte) (rest int, ok bool) {
	if fr.bundle == "" || t.dashes != 1 {
		return 0, false
	}
	for i := 1; i < len(t.s); i++ {
		switch {
		case t.s[i] == c:
			return i + 1, true
		case strings.IndexByte(fr.bundle, t.s[i]) < 0:
			return 0, false // a letter that takes a value, or no option
		}
	}
	return 0, false
}

// keywords returns the words of which one is in every string where the
// rule can find a flag: the programs' names, or else a part of each
// flag's name (the longest between dashes, as "-" may be written "_").
func (fr *flagRule) keywords() []string {
	if len(fr.programs) > 0 {
		names := make([]string, len(fr.programs))
		for i, words := range fr.programs {
			names[i] = words[0]
		}
		return names
	}
	var kw []string
	for _, f := range fr.flags {
		best := ""
		for part := range strings.SplitSeq(f.name, "-") {
			if len(part) > len(best) {
				best = part
			}
		}
		kw = append(kw, best)
	}
	return kw
}

// letters tells cheaply which tokens may be a flag of some rules, so that
// most arguments are passed over without trying each flag: by its letter
// for a short flag, or a letter that may be bundled before it, by the last
// letter of its name for the others.
type letters struct {
	short [256]bool
	last  [2][256]bool // in each way sameName matches it; [0] for bare words, [1] with dashes
}

// add adds the letters of flags, and those of bundle.
func (l *letters) add(flags []flag, bundle string) {
	for i := 0; i < len(bundle); i++ {
		l.short[bundle[i]] = true
	}
	for _, f := range flags {
		if f.short {
			l.short[f.name[0]] = true
			continue
		}
		last := &l.last[min(f.dashes, 1)]
		switch c := f.name[len(f.name)-1]; {
		case 'a' <= c && c <= 'z':
			last[c], last[c-'a'+'A'] = true, true
		case c == '-':
			last['-'], last['_'] = true, true
		default:
			last[c] = true
		}
	}
}

// maybe reports whether t may be one of the flags.
func (l *letters) maybe(t *token) bool {
	if t.dashes == 1 && len(t.s) >= 2 && l.short[t.s[1]] {
		return true
	}
	if t.end == t.dashes {
		return false
	}
	return l.last[min(t.dashes, 1)][t.s[t.end-1]]
}
