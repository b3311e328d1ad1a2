package recipe

import (
	"path"
	"regexp"
	"slices"
	"strings"
)

// StringMatch tests a string. It holds when any of its forms does; an
// empty StringMatch holds for every string.
type StringMatch struct {
	Exact    []string
	Prefix   []string
	Suffix   []string
	Contains []string
	// Glob patterns follow path.Match: '*' stops at '/'.
	Glob  []string
	Regex []*regexp.Regexp
}

// IsZero says whether m tests nothing.
func (m *StringMatch) IsZero() bool {
	return len(m.Exact)+len(m.Prefix)+len(m.Suffix)+len(m.Contains)+len(m.Glob)+len(m.Regex) == 0
}

// Match says whether s matches. It allocates nothing.
func (m *StringMatch) Match(s string) bool {
	if m.IsZero() {
		return true
	}
	return m.matchAny(s)
}

// matchAny is Match without the empty-matches-all rule.
func (m *StringMatch) matchAny(s string) bool {
	if slices.Contains(m.Exact, s) {
		return true
	}
	for _, p := range m.Prefix {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	for _, p := range m.Suffix {
		if strings.HasSuffix(s, p) {
			return true
		}
	}
	for _, p := range m.Contains {
		if strings.Contains(s, p) {
			return true
		}
	}
	for _, g := range m.Glob {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	for _, re := range m.Regex {
		if re.MatchString(s) {
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
