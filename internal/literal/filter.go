package literal

import (
	"fmt"
	"regexp/syntax"
)

// Filter is a cheap necessary condition for a regular expression to
// match somewhere in a string: a least length, and the expression's
// needs.
type Filter struct {
	minLen int
	needs  []Need
	sets   []*Set
}

// NewFilter analyses the expression expr (Perl syntax, as regexp.Compile
// takes it).
func NewFilter(expr string) (Filter, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return Filter{}, fmt.Errorf("parse: %w", err)
	}
	re = re.Simplify()
	needs := literals(re).allNeeds()
	return Filter{minLen: minLen(re), needs: needs, sets: Sets(needs)}, nil
}

// Needs returns the expression's needs, the most selective first. The
// caller must not modify them.
func (f *Filter) Needs() []Need { return f.needs }

// Pass says whether the expression may match s.
func (f *Filter) Pass(s string) bool {
	if len(s) < f.minLen {
		return false
	}
	for _, set := range f.sets {
		if !set.Contains(s) {
			return false
		}
	}
	return true
}

// Sets builds the searches for needs.
func Sets(needs []Need) []*Set {
	var sets []*Set
	for _, n := range needs {
		sets = append(sets, NewSet(n.Lits, n.Fold))
	}
	return sets
}
