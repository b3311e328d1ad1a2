package literal

// Index finds in one pass which of many sets of literals have a member in
// a string, without regard to ASCII case: an Aho-Corasick automaton,
// compiled to a table.
type Index struct {
	class [256]uint16 // byte → column; 0 for the bytes in no literal
	width int         // number of columns
	next  []int32     // state*width + column → state
	out   [][]uint64  // state → the sets with a literal ending there; nil if none
}

// NewIndex builds the index of sets, each known by its position in sets;
// an empty set is in no string.
func NewIndex(sets [][]string) *Index {
	x := &Index{width: 1}
	for _, set := range sets {
		for _, w := range set {
			for i := 0; i < len(w); i++ {
				if c := lowerByte(w[i]); x.class[c] == 0 {
					x.class[c] = uint16(x.width)
					x.width++
				}
			}
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		x.class[c] = x.class[c+'a'-'A']
	}
	words := (len(sets) + 63) / 64
	x.addState()
	for id, set := range sets {
		for _, w := range set {
			st := int32(0)
			for i := 0; i < len(w); i++ {
				col := int32(x.class[lowerByte(w[i])])
				if x.next[st*int32(x.width)+col] < 0 {
					x.next[st*int32(x.width)+col] = x.addState()
				}
				st = x.next[st*int32(x.width)+col]
			}
			if x.out[st] == nil {
				x.out[st] = make([]uint64, words)
			}
			x.out[st][id/64] |= 1 << (id % 64)
		}
	}
	x.link(words)
	return x
}

// addState adds a state with no transitions yet and returns it.
func (x *Index) addState() int32 {
	for range x.width {
		x.next = append(x.next, -1)
	}
	x.out = append(x.out, nil)
	return int32(len(x.out) - 1)
}

// link turns the trie into the automaton: breadth first, a missing
// transition goes where the state's longest proper suffix would go, and a
// state also reports what that suffix reports.
func (x *Index) link(words int) {
	fail := make([]int32, len(x.out))
	queue := []int32{0}
	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		for col := range int32(x.width) {
			t := x.next[st*int32(x.width)+col]
			via := x.next[fail[st]*int32(x.width)+col] // where the suffix goes
			switch {
			case t < 0 && st == 0:
				x.next[col] = 0
			case t < 0:
				x.next[st*int32(x.width)+col] = via
			default:
				if st != 0 {
					fail[t] = via
				}
				x.out[t] = union(x.out[t], x.out[fail[t]], words)
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

// Scan sets in found, a bit per set (set i is bit i%64 of found[i/64]),
// the bits of the sets that have a member in s. found must hold a bit for
// every set. It reports whether s is all ASCII: in a string that is not, a
// literal may stand in a case the index does not fold (ſ for s, the Kelvin
// sign K for k), which a regular expression ignoring case matches.
func (x *Index) Scan(s string, found []uint64) (ascii bool) {
	st := int32(0)
	w := int32(x.width)
	var seen byte // every byte of s or'ed together
	for i := 0; i < len(s); i++ {
		seen |= s[i]
		st = x.next[st*w+int32(x.class[s[i]])]
		if o := x.out[st]; o != nil {
			for j := range o {
				found[j] |= o[j]
			}
		}
	}
	return seen < 0x80
}
