package recipe

import (
	"regexp/syntax"
	"slices"
	"strings"
)

// litSet looks for any of a set of literal strings in one pass: the
// literals are grouped by their first byte (their last, for suffixes), so
// a string is read once and only the literals that can start at a byte are
// compared there.
type litSet struct {
	// lits are sorted by their key byte; lower-cased when fold is set.
	lits []string
	// lits[start[b]:start[b+1]] are the literals whose key byte is b.
	start [257]uint16
	// hit[b] says whether a literal has the key byte b, in either case
	// when fold is set: the scan's one test at most bytes.
	hit [256]bool
	// min is the length of the shortest literal.
	min int
	// fold compares ASCII letters without case. It only serves
	// prefilters: a string with a byte outside ASCII counts as containing
	// the literals, since Unicode case folding may match it (K, the Kelvin
	// sign, is a k).
	fold bool
}

// newLitSet builds the set of lits, keyed by their first byte, or by their
// last with byLast (for suffixes). It returns nil for no literals.
func newLitSet(lits []string, fold, byLast bool) *litSet {
	if len(lits) == 0 {
		return nil
	}
	s := &litSet{lits: slices.Clone(lits), fold: fold, min: len(lits[0])}
	key := func(l string) byte {
		if byLast {
			return l[len(l)-1]
		}
		return l[0]
	}
	for i, l := range s.lits {
		if fold {
			s.lits[i] = strings.Map(lowerASCII, l)
		}
		s.min = min(s.min, len(l))
	}
	slices.SortFunc(s.lits, func(a, b string) int { return int(key(a)) - int(key(b)) })
	// start[b] is the number of literals whose key byte is below b.
	for _, l := range s.lits {
		k := key(l)
		for b := int(k) + 1; b < len(s.start); b++ {
			s.start[b]++
		}
		s.hit[k] = true
		if fold && 'a' <= k && k <= 'z' {
			s.hit[k-'a'+'A'] = true
		}
	}
	return s
}

func lowerASCII(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

func (s *litSet) bucket(b byte) []string {
	if s.fold {
		b = byte(lowerASCII(rune(b)))
	}
	return s.lits[s.start[b]:s.start[int(b)+1]]
}

// at says whether one of the literals of bucket starts s.
func (s *litSet) at(bucket []string, str string) bool {
	for _, l := range bucket {
		if len(str) < len(l) {
			continue
		}
		if !s.fold {
			if str[:len(l)] == l {
				return true
			}
			continue
		}
		i := 1 // the bucket's byte matched
		for i < len(l) && byte(lowerASCII(rune(str[i]))) == l[i] {
			i++
		}
		if i == len(l) {
			return true
		}
	}
	return false
}

// contains says whether str contains one of the literals.
func (s *litSet) contains(str string) bool {
	if s.fold && !isASCII(str) {
		return true
	}
	if !s.fold && len(s.lits) <= 2 {
		// strings.Index's vector search beats a byte-by-byte scan.
		return strings.Contains(str, s.lits[0]) || len(s.lits) == 2 && strings.Contains(str, s.lits[1])
	}
	for i := 0; i+s.min <= len(str); i++ {
		if s.hit[str[i]] && s.at(s.bucket(str[i]), str[i:]) {
			return true
		}
	}
	return false
}

// hasPrefix says whether str starts with one of the literals.
func (s *litSet) hasPrefix(str string) bool {
	return len(str) >= s.min && s.hit[str[0]] && s.at(s.bucket(str[0]), str)
}

// hasSuffix says whether str ends with one of the literals, of a set built
// byLast.
func (s *litSet) hasSuffix(str string) bool {
	if len(str) < s.min || !s.hit[str[len(str)-1]] {
		return false
	}
	for _, l := range s.bucket(str[len(str)-1]) {
		if strings.HasSuffix(str, l) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// regexFilter is a cheap necessary condition for a regular expression to
// match: a least length, and sets of literals each of which has a member
// in every match. Most strings fail it, and are spared the expression,
// which Go runs far more slowly than a literal search.
type regexFilter struct {
	minLen int
	needs  []*litSet
}

// newRegexFilter analyses the expression expr (Perl syntax, as
// regexp.Compile takes it).
func newRegexFilter(expr string) (regexFilter, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return regexFilter{}, err
	}
	re = re.Simplify()
	return regexFilter{minLen: minLen(re), needs: litSets(literals(re).allNeeds())}, nil
}

// litSets builds the searches for needs.
func litSets(needs []need) []*litSet {
	var sets []*litSet
	for _, n := range needs {
		sets = append(sets, newLitSet(n.lits, n.fold, false))
	}
	return sets
}

// pass says whether s may match the expression.
func (f *regexFilter) pass(s string) bool {
	if len(s) < f.minLen {
		return false
	}
	for _, n := range f.needs {
		if !n.contains(s) {
			return false
		}
	}
	return true
}

// minLen is the least number of bytes a match of re has.
func minLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune) // a rune takes a byte at least
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minLen(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * minLen(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, sub := range re.Sub {
			n += minLen(sub)
		}
		return n
	case syntax.OpAlternate:
		n := minLen(re.Sub[0])
		for _, sub := range re.Sub[1:] {
			n = min(n, minLen(sub))
		}
		return n
	}
	return 0 // empty matches, anchors, stars and questions
}

// maxExact bounds the sets of strings the literal analysis enumerates,
// maxNeeds the needs it keeps for one expression (the most selective).
const (
	maxExact = 16
	maxNeeds = 3
)

// need is a set of literals one of which a string must contain; fold
// says they are compared without case.
type need struct {
	lits []string
	fold bool
}

// oneOf is the need for one of lits. It drops repeated literals and those
// containing others, and fails for a set that an empty string is in, or
// an empty set (of an expression that matches nothing).
func oneOf(fold bool, lits []string) (need, bool) {
	var out []string
	for _, s := range lits {
		if s == "" {
			return need{}, false
		}
		if !slices.ContainsFunc(lits, func(o string) bool { return o != s && strings.Contains(s, o) }) &&
			!slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return need{lits: out, fold: fold}, len(out) > 0
}

// selective says whether n rules out more strings than o, by a guess: a
// longer shortest literal, then fewer literals.
func (n need) selective(o need) bool {
	short := func(lits []string) int {
		m := len(lits[0])
		for _, l := range lits[1:] {
			m = min(m, len(l))
		}
		return m
	}
	if a, b := short(n.lits), short(o.lits); a != b {
		return a > b
	}
	return len(n.lits) < len(o.lits)
}

// allOf joins two lists of needs that must all hold, keeping the most
// selective.
func allOf(a, b []need) []need {
	all := slices.Clone(a)
	for _, n := range b {
		if !slices.ContainsFunc(all, func(o need) bool { return o.fold == n.fold && slices.Equal(o.lits, n.lits) }) {
			all = append(all, n)
		}
	}
	slices.SortStableFunc(all, func(x, y need) int {
		switch {
		case x.selective(y):
			return -1
		case y.selective(x):
			return 1
		}
		return 0
	})
	return all[:min(len(all), maxNeeds)]
}

// eitherOf is what holds when one of two lists of needs does: one need,
// the union of the most selective of each.
func eitherOf(a, b []need) []need {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	n, ok := oneOf(a[0].fold || b[0].fold, append(slices.Clone(a[0].lits), b[0].lits...))
	if !ok {
		return nil
	}
	return []need{n}
}

// litInfo is what the literal analysis knows of an expression: either
// exactly the strings it matches (exact), or needs that every match meets
// (none when nothing is known).
type litInfo struct {
	exact   []string
	isExact bool
	fold    bool // of exact: compared without case
	needs   []need
}

func exactly(fold bool, strs ...string) litInfo {
	return litInfo{exact: strs, isExact: true, fold: fold}
}

// unknown is an expression of which nothing is known.
func unknown() litInfo { return litInfo{} }

// allNeeds returns the needs every match meets.
func (i litInfo) allNeeds() []need {
	if !i.isExact {
		return i.needs
	}
	if n, ok := oneOf(i.fold, i.exact); ok {
		return []need{n}
	}
	return nil
}

// literals analyses re (simplified): a bounded enumeration of the strings
// it matches where there are few, and otherwise sets of literals that each
// match contains one of, after RE2's prefilters.
func literals(re *syntax.Regexp) litInfo {
	fold := re.Flags&syntax.FoldCase != 0
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		if fold && !isASCII(s) {
			return unknown()
		}
		return exactly(fold, s)
	case syntax.OpCharClass:
		// A small class of ASCII characters: each is a string. (Under
		// (?i) the parser has already added the other case to the class.)
		var chars []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi >= 0x80 || int(hi-lo)+1+len(chars) > 10 {
				return unknown()
			}
			for r := lo; r <= hi; r++ {
				chars = append(chars, string(r))
			}
		}
		return exactly(false, chars...)
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return exactly(false, "")
	case syntax.OpCapture:
		return literals(re.Sub[0])
	case syntax.OpQuest:
		if sub := literals(re.Sub[0]); sub.isExact && len(sub.exact) < maxExact {
			return exactly(sub.fold, append([]string{""}, sub.exact...)...)
		}
		return unknown()
	case syntax.OpPlus:
		return litInfo{needs: literals(re.Sub[0]).allNeeds()}
	case syntax.OpRepeat:
		if re.Min > 0 {
			return litInfo{needs: literals(re.Sub[0]).allNeeds()}
		}
		return unknown()
	case syntax.OpConcat:
		return concatLiterals(re.Sub)
	case syntax.OpAlternate:
		return alternateLiterals(re.Sub)
	}
	return unknown()
}

// concatLiterals multiplies the exact sets of consecutive parts while they
// stay small; each run that cannot grow further is a need, as are the
// needs of the parts that are not exact.
func concatLiterals(subs []*syntax.Regexp) litInfo {
	run := exactly(false, "")
	var needs []need
	closed := false
	for _, sub := range subs {
		x := literals(sub)
		if x.isExact && len(run.exact)*len(x.exact) <= maxExact {
			var product []string
			for _, a := range run.exact {
				for _, b := range x.exact {
					product = append(product, a+b)
				}
			}
			run = exactly(run.fold || x.fold, product...)
			continue
		}
		closed = true
		needs = allOf(needs, run.allNeeds())
		if x.isExact {
			run = x
			continue
		}
		needs = allOf(needs, x.needs)
		run = exactly(false, "")
	}
	if !closed {
		return run
	}
	return litInfo{needs: allOf(needs, run.allNeeds())}
}

// alternateLiterals joins the alternatives: their exact strings while few,
// else the union of their most selective needs, if each has one.
func alternateLiterals(subs []*syntax.Regexp) litInfo {
	all := make([]litInfo, len(subs))
	exact, n, fold := true, 0, false
	for i, sub := range subs {
		all[i] = literals(sub)
		exact = exact && all[i].isExact
		n += len(all[i].exact)
		fold = fold || all[i].fold
	}
	if exact && n <= maxExact {
		var strs []string
		for _, x := range all {
			strs = append(strs, x.exact...)
		}
		return exactly(fold, strs...)
	}
	needs := all[0].allNeeds()
	for _, x := range all[1:] {
		needs = eitherOf(needs, x.allNeeds())
	}
	return litInfo{needs: needs}
}
