package literal

import (
	"slices"
	"strings"
)

// Set looks for any of a set of literal strings in one pass: the literals
// are grouped by their first byte (their last, for suffixes), so a string
// is read once and only the literals that can start at a byte are compared
// there.
type Set struct {
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

// NewSet builds the set of lits for [Set.Contains] and [Set.HasPrefix],
// comparing ASCII letters without case when fold is set. It returns nil
// for no literals.
func NewSet(lits []string, fold bool) *Set { return newSet(lits, fold, false) }

// NewSuffixSet builds the set of lits for [Set.HasSuffix], keyed by their
// last byte. It returns nil for no literals.
func NewSuffixSet(lits []string) *Set { return newSet(lits, false, true) }

func newSet(lits []string, fold, byLast bool) *Set {
	if len(lits) == 0 {
		return nil
	}
	s := &Set{lits: slices.Clone(lits), fold: fold, min: len(lits[0])}
	key := func(l string) byte {
		if byLast {
			return l[len(l)-1]
		}
		return l[0]
	}
	for i, l := range s.lits {
		if fold {
			s.lits[i] = lower(l)
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

func (s *Set) bucket(b byte) []string {
	if s.fold {
		b = lowerByte(b)
	}
	return s.lits[s.start[b]:s.start[int(b)+1]]
}

// at says whether one of the literals of bucket starts s.
func (s *Set) at(bucket []string, str string) bool {
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
		for i < len(l) && lowerByte(str[i]) == l[i] {
			i++
		}
		if i == len(l) {
			return true
		}
	}
	return false
}

// Contains says whether str contains one of the literals.
func (s *Set) Contains(str string) bool {
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

// HasPrefix says whether str starts with one of the literals.
func (s *Set) HasPrefix(str string) bool {
	return len(str) >= s.min && s.hit[str[0]] && s.at(s.bucket(str[0]), str)
}

// HasSuffix says whether str ends with one of the literals, of a set built
// by [NewSuffixSet].
func (s *Set) HasSuffix(str string) bool {
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

// lowerByte folds an ASCII upper-case letter to lower case.
func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// lower folds the ASCII upper-case letters of s to lower case.
func lower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
