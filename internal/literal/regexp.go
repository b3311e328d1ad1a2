package literal

import (
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"
)

// maxExact bounds the sets of strings the analysis enumerates, maxClass
// the characters (letters of both cases counted once) of a character
// class it enumerates.
const (
	maxExact = 16
	maxClass = 10
)

// Needs returns what every match of re (parsed with syntax.Perl) contains:
// at most maxNeeds needs, the most selective first; none when it knows of
// none. It is a bounded enumeration of the strings re matches where there
// are few, and otherwise sets of literals that each match contains one
// of, after RE2's prefilters.
func Needs(re *syntax.Regexp) []Need { return literals(re.Simplify()).allNeeds() }

// info is what the analysis knows of an expression: either exactly the
// strings it matches (isExact), or needs that every match meets (none
// when nothing is known), and strings one of which every match begins
// with (prefix; nil when not known).
type info struct {
	exact   []string
	isExact bool
	prefix  []string
	fold    bool // of exact or prefix: compared without case
	needs   []Need
}

func exactly(fold bool, strs ...string) info {
	fold, strs = normalize(fold, strs)
	return info{exact: strs, isExact: true, fold: fold}
}

// unknown is an expression of which nothing is known.
func unknown() info { return info{} }

// allNeeds returns the needs every match meets.
func (i info) allNeeds() []Need {
	if !i.isExact {
		return i.needs
	}
	if n, ok := oneOf(i.fold, i.exact); ok {
		return []Need{n}
	}
	return nil
}

// starts returns the strings one of which every match begins with, as an
// exact set; ok is false when they are not known.
func (i info) starts() (set info, ok bool) {
	if i.isExact {
		return i, true
	}
	if i.prefix == nil {
		return info{}, false
	}
	return exactly(i.fold, i.prefix...), true
}

// then is every string of i followed by one of next, exact sets both;
// ok is false when there would be more than maxExact.
func (i info) then(next info) (info, bool) {
	if len(i.exact)*len(next.exact) > maxExact {
		return info{}, false
	}
	product := make([]string, 0, len(i.exact)*len(next.exact))
	for _, a := range i.exact {
		for _, b := range next.exact {
			product = append(product, a+b)
		}
	}
	return exactly(i.fold || next.fold, product...), true
}

// literals analyses re (simplified).
func literals(re *syntax.Regexp) info {
	switch re.Op {
	case syntax.OpLiteral:
		if i := slices.Index(re.Rune, utf8.RuneError); i >= 0 {
			// Go's regexp reads each byte that is not valid UTF-8 as
			// U+FFFD, which a U+FFFD of the expression then matches: a
			// match needs the text around it, not its encoding.
			before, after := *re, *re
			before.Rune, after.Rune = re.Rune[:i], re.Rune[i+1:]
			return info{needs: AllOf(literals(&before).allNeeds(), literals(&after).allNeeds())}
		}
		s := string(re.Rune)
		fold := re.Flags&syntax.FoldCase != 0
		if fold && !isASCII(s) {
			return unknown()
		}
		return exactly(fold, s)
	case syntax.OpCharClass:
		return charClass(re.Rune)
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
		return once(literals(re.Sub[0]))
	case syntax.OpRepeat:
		if re.Min > 0 {
			return once(literals(re.Sub[0]))
		}
		return unknown()
	case syntax.OpConcat:
		return concatLiterals(re.Sub)
	case syntax.OpAlternate:
		return alternateLiterals(re.Sub)
	}
	return unknown()
}

// charClass is a small class of ASCII characters: each is a string. Under
// (?i) the parser has already added the other cases to the class (ſ to s,
// the Kelvin sign K to k), which makes it larger, or not ASCII: a class
// that holds both cases of each of its letters is then its lower-case
// letters compared without case, which a literal search takes to cover
// those other cases too.
func charClass(ranges []rune) info {
	var in [utf8.RuneSelf]bool
	n := 0
	folded := false // a letter beyond ASCII that folds to one within
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if hi >= utf8.RuneSelf {
			if lo < utf8.RuneSelf || hi-lo > 1 || !foldsToASCII(lo) || !foldsToASCII(hi) {
				return unknown()
			}
			folded = true
			continue
		}
		for r := lo; r <= hi; r++ {
			in[r] = true
			n++
		}
	}
	caseless := true
	for c := 'a'; c <= 'z'; c++ {
		caseless = caseless && in[c] == in[c-'a'+'A']
	}
	fold := folded || n > maxClass
	if fold && !caseless {
		return unknown()
	}
	var chars []string
	for c := range rune(len(in)) {
		if in[c] && !(fold && 'A' <= c && c <= 'Z') {
			chars = append(chars, string(c))
		}
	}
	if len(chars) > maxClass {
		return unknown()
	}
	return exactly(fold, chars...)
}

// once is what is known of x+ from what is known of x: x's needs, and
// that a match begins with one of x's strings.
func once(x info) info {
	out := info{needs: x.allNeeds()}
	if start, ok := x.starts(); ok && !slices.Contains(start.exact, "") {
		out.prefix, out.fold = start.exact, start.fold
	}
	return out
}

// concatLiterals multiplies the exact sets of consecutive parts while they
// stay small. Each run that cannot grow further is a need, made longer by
// what the next part begins with where that is known (A(?:KIA|SIA)[0-9]+
// needs AKIA or ASIA); so are the needs of the parts that are not exact.
// The first such run begins every match.
func concatLiterals(subs []*syntax.Regexp) info {
	run := exactly(false, "")
	var needs []Need
	var head info // the first run that ended
	closed := false
	for _, sub := range subs {
		x := literals(sub)
		if x.isExact {
			if next, ok := run.then(x); ok {
				run = next
				continue
			}
		}
		end := run
		if start, ok := x.starts(); ok {
			if longer, ok := run.then(start); ok {
				end = longer
			}
		}
		if !closed {
			head, closed = end, true
		}
		needs = AllOf(needs, end.allNeeds())
		if x.isExact {
			run = x
			continue
		}
		needs = AllOf(needs, x.needs)
		run = exactly(false, "")
	}
	if !closed {
		return run
	}
	out := info{needs: AllOf(needs, run.allNeeds())}
	if !slices.Contains(head.exact, "") {
		out.prefix, out.fold = head.exact, head.fold
	}
	return out
}

// alternateLiterals joins the alternatives: their exact strings while few,
// else the union of their most selective needs, if each has one, and of
// the strings they begin with, if each has some.
func alternateLiterals(subs []*syntax.Regexp) info {
	all := make([]info, len(subs))
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
	out := info{needs: all[0].allNeeds()}
	for _, x := range all[1:] {
		out.needs = EitherOf(out.needs, x.allNeeds())
	}
	var starts []string
	for _, x := range all {
		start, ok := x.starts()
		if !ok || slices.Contains(start.exact, "") || len(starts)+len(start.exact) > maxExact {
			return out
		}
		starts = append(starts, start.exact...)
	}
	out.fold, out.prefix = normalize(fold, starts)
	return out
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

// foldsToASCII says whether r, beyond ASCII, is another case of an ASCII
// letter.
func foldsToASCII(r rune) bool {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return true
		}
	}
	return false
}
