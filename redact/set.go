package redact

import (
	"iter"
	"math/bits"
)

// Which rules with Flags or Programs a walk tries: most commands name none
// of the programs, and most rules are limited to some. So the Redactor
// keeps, once for all, the rules for every program and, per program name,
// the rules limited to it; a walk looks each token's base name up once and
// tries, on each token, only the rules that can fire in its command.

// ruleSet is a set of rules, by their index in Redactor.flags.
type ruleSet []uint64

// newRuleSet returns an empty set for n rules, in buf when it has room.
func newRuleSet(n int, buf []uint64) ruleSet {
	words := (n + 63) / 64
	if cap(buf) < words {
		return make(ruleSet, words)
	}
	s := ruleSet(buf[:words])
	clear(s)
	return s
}

// add adds rule i to s.
func (s ruleSet) add(i int) { s[i/64] |= 1 << (i % 64) }

// or adds the rules of o to s; o may be shorter, or nil.
func (s ruleSet) or(o ruleSet) {
	for i, w := range o {
		s[i] |= w
	}
}

// and keeps in s only the rules of o, of the same length.
func (s ruleSet) and(o ruleSet) {
	for i, w := range o {
		s[i] &= w
	}
}

// meets reports whether s and o, of the same length, share a rule.
func (s ruleSet) meets(o ruleSet) bool {
	for i, w := range o {
		if s[i]&w != 0 {
			return true
		}
	}
	return false
}

// all yields the rules of s in increasing order.
func (s ruleSet) all() iter.Seq[int] {
	return func(yield func(int) bool) {
		for w, word := range s {
			for word != 0 {
				if !yield(w*64 + bits.TrailingZeros64(word)) {
					return
				}
				word &= word - 1
			}
		}
	}
}

// ruleIndex says which rules of flags a command may need.
type ruleIndex struct {
	flags     []flagRule
	letters   *letters           // of the flags of all the rules
	free      ruleSet            // the rules for every program
	limited   ruleSet            // the others
	arguments ruleSet            // the argument rules (see flagRule.arguments)
	programs  map[string]ruleSet // the rules limited to each program, by its first word
}

// newRuleIndex indexes flags.
func newRuleIndex(flags []flagRule) *ruleIndex {
	x := &ruleIndex{
		flags: flags, letters: &letters{}, programs: make(map[string]ruleSet),
		free: newRuleSet(len(flags), nil), limited: newRuleSet(len(flags), nil), arguments: newRuleSet(len(flags), nil),
	}
	for i, fr := range flags {
		x.letters.add(fr.flags, fr.bundle)
		if fr.arguments {
			x.arguments.add(i)
		}
		if len(fr.programs) == 0 {
			x.free.add(i)
			continue
		}
		x.limited.add(i)
		for _, words := range fr.programs {
			s, ok := x.programs[words[0]]
			if !ok {
				s = newRuleSet(len(flags), nil)
				x.programs[words[0]] = s
			}
			s.add(i)
		}
	}
	return x
}

// active returns, in buf when it has room, the rules of allowed (nil for
// all) that may fire in the command of exe and toks: those for every
// program, and those whose programs exe or a token names by its base name.
func (x *ruleIndex) active(allowed ruleSet, exe string, toks []string, buf []uint64) ruleSet {
	s := newRuleSet(len(x.flags), buf)
	s.or(x.free)
	if allowed == nil || allowed.meets(x.limited) {
		if exe != "" {
			s.or(x.programs[base(exe)])
		}
		for _, t := range toks {
			if p, ok := x.programs[base(t)]; ok {
				s.or(p)
			}
		}
	}
	if allowed != nil {
		s.and(allowed)
	}
	return s
}
