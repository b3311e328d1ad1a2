package recipe

import (
	"path"
	"regexp"
	"slices"

	"github.com/vigil-otel/vigil/internal/literal"
)

// strMatcher is a compiled StringMatch: each form tests all its values at
// once.
type strMatcher struct {
	exact    []string
	exactSet *strSet // for long exact lists; nil for short ones
	// prefixes are the prefix forms' values, which the indexes file
	// recipes under.
	prefixes []string
	prefix   *literal.Set
	suffix   *literal.Set
	contains *literal.Set
	globs    []string
	// re is the regular expressions as one alternation, one pass over the
	// string, tried only when its prefilter passes; nil when there are none.
	re     *regexp.Regexp
	filter literal.Filter
	// empty says the spec tests nothing: the matcher holds for every
	// string. others counts its values besides exact and prefixes.
	empty  bool
	others int
}

// exactSetLen is the length of an exact list from which a strSet finds a
// value faster than comparing each.
const exactSetLen = 8

// match says whether s matches. It allocates nothing.
func (m *strMatcher) match(s string) bool {
	return m.empty || m.matchAny(s)
}

// matchAny is match without the empty-matches-all rule.
func (m *strMatcher) matchAny(s string) bool {
	if m.exactSet != nil {
		if m.exactSet.has(s) {
			return true
		}
	} else if slices.Contains(m.exact, s) {
		return true
	}
	if m.prefix != nil && m.prefix.HasPrefix(s) ||
		m.suffix != nil && m.suffix.HasSuffix(s) ||
		m.contains != nil && m.contains.Contains(s) {
		return true
	}
	for _, g := range m.globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return m.re != nil && m.filter.Pass(s) && m.re.MatchString(s)
}

// keyed says whether every string m matches is one of its exact values or
// starts with one of its prefixes, so that an index can serve it.
func (m *strMatcher) keyed() bool {
	return len(m.exact)+len(m.prefixes) > 0 && m.others == 0
}

// onlyExact says whether m is a plain list of exact strings, which an
// index can serve.
func (m *strMatcher) onlyExact() bool {
	return len(m.exact) > 0 && len(m.prefixes)+m.others == 0
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
