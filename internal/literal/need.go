// Package literal is the prefilter of vigil's string tests: it finds
// literal strings that every match of a regular expression (or of a CEL
// expression's string tests) contains, and looks for them in a string in
// one pass. Most strings hold none, and are spared the expression, which
// Go runs far more slowly than a literal search. Recipes filter their
// regular expressions and CEL expressions this way, and redaction its
// rules.
package literal

import (
	"slices"
	"strings"
)

// maxNeeds bounds the needs kept for one expression (the most selective).
const maxNeeds = 3

// Need is a set of literals one of which a string must contain.
type Need struct {
	// Lits are the literals, none of which contains another; lower-cased
	// when Fold is set.
	Lits []string
	// Fold says the literals are compared without ASCII case.
	Fold bool
}

// OneOf is what a test for one of lits needs: a string that equals one,
// starts or ends with one, or contains one, contains one. It is nil when
// one of lits is empty, which every string contains.
func OneOf(lits ...string) []Need {
	if n, ok := oneOf(false, lits); ok {
		return []Need{n}
	}
	return nil
}

// oneOf is the need for one of lits. It drops repeated literals and those
// containing others, and fails for a set that an empty string is in, or
// an empty set (of an expression that matches nothing).
func oneOf(fold bool, lits []string) (Need, bool) {
	fold, lits = normalize(fold, lits)
	var out []string
	for _, s := range lits {
		if s == "" {
			return Need{}, false
		}
		if !slices.ContainsFunc(lits, func(o string) bool { return o != s && strings.Contains(s, o) }) &&
			!slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return Need{Lits: out, Fold: fold}, len(out) > 0
}

// normalize lower-cases literals compared without case, so that those
// differing only in case are one, and compares with case those that hold
// no letter, which is the faster search.
func normalize(fold bool, lits []string) (bool, []string) {
	if !fold || !slices.ContainsFunc(lits, hasLetter) {
		return false, lits
	}
	out := make([]string, len(lits))
	for i, l := range lits {
		out[i] = lower(l)
	}
	return true, out
}

// hasLetter says whether s holds an ASCII letter.
func hasLetter(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' })
}

// selective says whether n rules out more strings than o, by a guess: a
// longer shortest literal, then fewer literals.
func (n Need) selective(o Need) bool {
	short := func(lits []string) int {
		m := len(lits[0])
		for _, l := range lits[1:] {
			m = min(m, len(l))
		}
		return m
	}
	if a, b := short(n.Lits), short(o.Lits); a != b {
		return a > b
	}
	return len(n.Lits) < len(o.Lits)
}

// AllOf is what holds when two tests hold, of needs a and b: both lists,
// the most selective first, at most maxNeeds of them.
func AllOf(a, b []Need) []Need {
	all := slices.Clone(a)
	for _, n := range b {
		if !slices.ContainsFunc(all, func(o Need) bool { return o.Fold == n.Fold && slices.Equal(o.Lits, n.Lits) }) {
			all = append(all, n)
		}
	}
	slices.SortStableFunc(all, func(x, y Need) int {
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

// EitherOf is what holds when one of two tests does, of needs a and b:
// one need, the union of the most selective of each; nil when either
// needs nothing.
func EitherOf(a, b []Need) []Need {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	n, ok := oneOf(a[0].Fold || b[0].Fold, append(slices.Clone(a[0].Lits), b[0].Lits...))
	if !ok {
		return nil
	}
	return []Need{n}
}
