package recipe

import (
	"path"
	"regexp"
	"slices"

	"github.com/vigil-otel/vigil/internal/literal"
)

// StringMatch tests a string. It holds when any of its forms does; an
// empty StringMatch holds for every string. The parser compiles it: a
// StringMatch built otherwise must be compiled before it matches.
type StringMatch struct {
	Exact    []string
	Prefix   []string
	Suffix   []string
	Contains []string
	// Glob patterns follow path.Match: '*' stops at '/'.
	Glob  []string
	Regex []*regexp.Regexp

	// The compiled forms, which test all the values of a form at once.
	exact    *strSet // for long Exact lists; nil for short ones
	prefix   *literal.Set
	suffix   *literal.Set
	contains *literal.Set
	// filters[i] is Regex[i]'s prefilter.
	filters []literal.Filter
}

// exactSetLen is the length of Exact from which a strSet finds a value
// faster than comparing each.
const exactSetLen = 8

// compile builds the compiled forms; exprs are the sources of Regex.
func (m *StringMatch) compile(exprs []string) error {
	if len(m.Exact) >= exactSetLen {
		m.exact = newStrSet(m.Exact)
	}
	m.prefix = literal.NewSet(m.Prefix, false)
	m.suffix = literal.NewSuffixSet(m.Suffix)
	m.contains = literal.NewSet(m.Contains, false)
	m.filters = m.filters[:0]
	for _, expr := range exprs {
		f, err := literal.NewFilter(expr)
		if err != nil {
			return err
		}
		m.filters = append(m.filters, f)
	}
	return nil
}

// IsZero says whether m tests nothing.
func (m *StringMatch) IsZero() bool {
	return len(m.Exact)+len(m.Prefix)+len(m.Suffix)+len(m.Contains)+len(m.Glob)+len(m.Regex) == 0
}

// Match says whether s matches. It allocates nothing.
func (m *StringMatch) Match(s string) bool {
	return m.IsZero() || m.matchAny(s)
}

// matchAny is Match without the empty-matches-all rule.
func (m *StringMatch) matchAny(s string) bool {
	if m.exact != nil {
		if m.exact.has(s) {
			return true
		}
	} else if slices.Contains(m.Exact, s) {
		return true
	}
	if m.prefix != nil && m.prefix.HasPrefix(s) ||
		m.suffix != nil && m.suffix.HasSuffix(s) ||
		m.contains != nil && m.contains.Contains(s) {
		return true
	}
	for _, g := range m.Glob {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	for i, re := range m.Regex {
		if m.filters[i].Pass(s) && re.MatchString(s) {
			return true
		}
	}
	return false
}

// keyed says whether every string m matches is one of its exact values or
// starts with one of its prefixes, so that an index can serve it.
func (m *StringMatch) keyed() bool {
	return len(m.Exact)+len(m.Prefix) > 0 && len(m.Suffix)+len(m.Contains)+len(m.Glob)+len(m.Regex) == 0
}

// onlyExact says whether m is a plain list of exact strings, which an
// index can serve.
func (m *StringMatch) onlyExact() bool {
	return len(m.Exact) > 0 && len(m.Prefix)+len(m.Suffix)+len(m.Contains)+len(m.Glob)+len(m.Regex) == 0
}

// strSet is a set of strings hashed by their length and their first and
// last bytes: cheaper to look up than a map, which hashes every byte, for
// the short names and options recipes list.
type strSet struct {
	slots [][]string // a power of two of them
}

func newStrSet(strs []string) *strSet {
	n := 1
	for n < 2*len(strs) {
		n *= 2
	}
	set := &strSet{slots: make([][]string, n)}
	for _, s := range strs {
		i := set.slot(s)
		set.slots[i] = append(set.slots[i], s)
	}
	return set
}

func (set *strSet) slot(s string) int {
	h := len(s)
	if h > 0 {
		h = h*131 + int(s[0])*31 + int(s[len(s)-1])
	}
	return h & (len(set.slots) - 1)
}

func (set *strSet) has(s string) bool {
	return slices.Contains(set.slots[set.slot(s)], s)
}
