package redact

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// Most strings hold no secret, and running a few dozen regular expressions
// over each would cost microseconds. So each rule has keywords, one of
// which is in every string the rule can match (as gitleaks does), and one
// pass of an Aho-Corasick automaton over the string finds which rules'
// keywords are there; only those rules then run. The keywords of a Pattern
// are read from the regular expression itself, so user rules get them too.

// pattern is a compiled Pattern.
type pattern struct {
	re       *regexp.Regexp
	secret   int      // index of the "secret" group, 0 for the whole match
	keywords []string // lower case; one is in every match; none: not known
	musts    []string // each is in every match, as written
}

// compile compiles a Pattern and finds what its matches must hold.
func compile(expr string) (*pattern, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil { // regexp.Compile parsed it the same way
		return nil, fmt.Errorf("parse: %w", err)
	}
	return &pattern{re: re, secret: max(re.SubexpIndex("secret"), 0), keywords: required(tree), musts: musts(tree)}, nil
}

// find appends to dst the spans of the secrets in s, offset by off.
func (p *pattern) find(s string, off int, dst []span) []span {
	for _, m := range p.musts {
		if !strings.Contains(s, m) {
			return dst
		}
	}
	for _, m := range p.re.FindAllStringSubmatchIndex(s, -1) {
		if m[2*p.secret] >= 0 {
			dst = append(dst, span{off + m[2*p.secret], off + m[2*p.secret+1]})
		}
	}
	return dst
}

// musts returns the literals at the top level of re, which every match
// holds as they are written: a cheap test before running re, as
// strings.Contains is fast where the keywords leave off (a URL without
// "@" needs no look for a password in it).
func musts(re *syntax.Regexp) []string {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	var lits []string
	for _, sub := range subs {
		s := string(sub.Rune)
		if sub.Op == syntax.OpLiteral && (sub.Flags&syntax.FoldCase == 0 || strings.ToLower(s) == strings.ToUpper(s)) {
			lits = append(lits, s)
		}
	}
	return lits
}

// maxSet bounds the number of strings in a keyword set built by crossing
// literals with character classes, as gh[oprsu]_ gives ghp_, gho_, ...
const maxSet = 64

// required returns lower-case strings one of which is in every match of
// re, or nil when it finds none worth having.
func required(re *syntax.Regexp) []string {
	if sub := once(re); sub != nil {
		return required(sub)
	}
	switch re.Op {
	case syntax.OpLiteral:
		return expand(re)
	case syntax.OpAlternate:
		return anyOf(re.Sub, required)
	case syntax.OpConcat:
		return requiredConcat(re.Sub)
	}
	return nil
}

// requiredConcat is required for a concatenation: of the runs of adjacent
// literals and small character classes, and of the parts' own keywords,
// it keeps the set whose shortest string is longest.
func requiredConcat(subs []*syntax.Regexp) []string {
	var best []string
	consider := func(set []string) {
		if score(set) > score(best) {
			best = set
		}
	}
	run := []string{""}
	for _, sub := range subs {
		if next := cross(run, expand(sub)); next != nil {
			run = next
			continue
		}
		consider(run)
		consider(cross(run, prefix(sub))) // A(?:KIA|SIA) gives akia, asia
		run = []string{""}
		consider(required(sub))
	}
	consider(run)
	return best
}

// score is the length of the shortest string of a keyword set, 0 for none.
func score(set []string) int {
	if len(set) == 0 {
		return 0
	}
	return len(slices.MinFunc(set, func(a, b string) int { return len(a) - len(b) }))
}

// expand returns the lower-case strings that re matches when it is made
// of literals, small character classes and alternations of them, or nil.
// Case-insensitive literals other than ASCII give nil, as the automaton
// folds only ASCII.
func expand(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		if re.Flags&syntax.FoldCase != 0 && !ascii(s) {
			return nil
		}
		return []string{strings.ToLower(s)}
	case syntax.OpCharClass:
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if r >= utf8.RuneSelf || len(set) == 16 {
					return nil
				}
				if c := strings.ToLower(string(r)); !slices.Contains(set, c) {
					set = append(set, c)
				}
			}
		}
		return set
	case syntax.OpCapture:
		return expand(re.Sub[0])
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpEmptyMatch:
		return []string{""} // matches no text: a run of literals goes on across it
	case syntax.OpAlternate:
		return anyOf(re.Sub, expand)
	case syntax.OpConcat:
		set := []string{""}
		for _, sub := range re.Sub {
			if set = cross(set, expand(sub)); set == nil {
				return nil
			}
		}
		return set
	}
	return nil
}

// prefix returns lower-case strings with one of which every match of re
// begins, or nil.
func prefix(re *syntax.Regexp) []string {
	if sub := once(re); sub != nil {
		return prefix(sub)
	}
	switch re.Op {
	case syntax.OpAlternate:
		return anyOf(re.Sub, prefix)
	case syntax.OpConcat:
		set := []string{""}
		for _, sub := range re.Sub {
			next := cross(set, expand(sub))
			if next == nil {
				next = cross(set, prefix(sub))
			}
			if next == nil {
				break
			}
			set = next
		}
		if score(set) == 0 {
			return nil
		}
		return set
	}
	return expand(re)
}

// once returns the expression that re matches at least once, as a whole
// match: the inside of a capture, of x+ and of x{n,m} with n > 0; or nil.
func once(re *syntax.Regexp) *syntax.Regexp {
	switch {
	case re.Op == syntax.OpCapture, re.Op == syntax.OpPlus, re.Op == syntax.OpRepeat && re.Min > 0:
		return re.Sub[0]
	}
	return nil
}

// anyOf returns the union of the sets that f gives for the alternatives
// subs, or nil if one of them has none or there would be more than maxSet.
func anyOf(subs []*syntax.Regexp, f func(*syntax.Regexp) []string) []string {
	var set []string
	for _, sub := range subs {
		part := f(sub)
		if part == nil || len(set)+len(part) > maxSet {
			return nil
		}
		set = append(set, part...)
	}
	return set
}

// cross returns every string of a followed by one of b, or nil when b is
// nil or there would be more than maxSet.
func cross(a, b []string) []string {
	if b == nil || len(a)*len(b) > maxSet {
		return nil
	}
	var set []string
	for _, x := range a {
		for _, y := range b {
			set = append(set, x+y)
		}
	}
	return set
}

// ascii reports whether s is all ASCII.
func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// keywords is an Aho-Corasick automaton, compiled to a table, that finds
// which of a set of rules have one of their keywords in a string, without
// regard to ASCII case.
type keywords struct {
	class [256]uint16 // byte → column; 0 for the bytes in no keyword
	width int         // number of columns
	next  []int32     // state*width + column → state
	out   [][]uint64  // state → the rules with a keyword ending there; nil if none
}

// newKeywords builds the automaton for rules whose keywords are lits[id];
// a rule without keywords is left out.
func newKeywords(lits [][]string) *keywords {
	k := &keywords{width: 1}
	for _, set := range lits {
		for _, w := range set {
			for i := 0; i < len(w); i++ {
				if c := lower(w[i]); k.class[c] == 0 {
					k.class[c] = uint16(k.width)
					k.width++
				}
			}
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		k.class[c] = k.class[c+'a'-'A']
	}
	words := (len(lits) + 63) / 64
	k.addState()
	for id, set := range lits {
		for _, w := range set {
			st := int32(0)
			for i := 0; i < len(w); i++ {
				col := int32(k.class[lower(w[i])])
				if k.next[st*int32(k.width)+col] < 0 {
					k.next[st*int32(k.width)+col] = k.addState()
				}
				st = k.next[st*int32(k.width)+col]
			}
			if k.out[st] == nil {
				k.out[st] = make([]uint64, words)
			}
			k.out[st][id/64] |= 1 << (id % 64)
		}
	}
	k.link(words)
	return k
}

// addState adds a state with no transitions yet and returns it.
func (k *keywords) addState() int32 {
	for range k.width {
		k.next = append(k.next, -1)
	}
	k.out = append(k.out, nil)
	return int32(len(k.out) - 1)
}

// link turns the trie into the automaton: breadth first, a missing
// transition goes where the state's longest proper suffix would go, and a
// state also reports what that suffix reports.
func (k *keywords) link(words int) {
	fail := make([]int32, len(k.out))
	queue := []int32{0}
	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		for col := range int32(k.width) {
			t := k.next[st*int32(k.width)+col]
			via := k.next[fail[st]*int32(k.width)+col] // where the suffix goes
			switch {
			case t < 0 && st == 0:
				k.next[col] = 0
			case t < 0:
				k.next[st*int32(k.width)+col] = via
			default:
				if st != 0 {
					fail[t] = via
				}
				k.out[t] = union(k.out[t], k.out[fail[t]], words)
				queue = append(queue, t)
			}
		}
	}
}

// union returns a | b, either of which may be nil.
func union(a, b []uint64, words int) []uint64 {
	if b == nil {
		return a
	}
	u := make([]uint64, words)
	for i := range u {
		u[i] = b[i]
		if a != nil {
			u[i] |= a[i]
		}
	}
	return u
}

// scan sets in cand the bits of the rules that have a keyword in s.
func (k *keywords) scan(s string, cand []uint64) {
	st := int32(0)
	w := int32(k.width)
	for i := 0; i < len(s); i++ {
		st = k.next[st*w+int32(k.class[s[i]])]
		if o := k.out[st]; o != nil {
			for j := range o {
				cand[j] |= o[j]
			}
		}
	}
}

// lower folds an ASCII upper-case letter to lower case.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
