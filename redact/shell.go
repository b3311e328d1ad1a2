package redact

import "strings"

// Strings as shell words: a string such as the script of sh -c is split
// into words for the walk, and a quoted word that holds a script of its
// own is looked into in turn.

// shellWords splits s into words at white space, as a shell would but
// without expansions: a quoted part ('…' or "…") belongs to its word
// whatever it holds, and quotes around a whole word are dropped. offs are
// the words' offsets in s. The words and offsets are appended to words and
// offs, which may have room for them.
func shellWords(s string, words []string, offs []int) ([]string, []int) {
	for i := 0; i < len(s); {
		if space(s[i]) {
			i++
			continue
		}
		start := i
		var quote byte
		for ; i < len(s) && (quote != 0 || !space(s[i])); i++ {
			switch c := s[i]; {
			case c == quote:
				quote = 0
			case quote == 0 && (c == '\'' || c == '"'):
				quote = c
			}
		}
		w, off := s[start:i], start
		if len(w) >= 2 && (w[0] == '\'' || w[0] == '"') && w[len(w)-1] == w[0] {
			w, off = w[1:len(w)-1], start+1
		}
		words = append(words, w)
		offs = append(offs, off)
	}
	return words, offs
}

// space reports whether c is ASCII white space.
func space(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// maxNesting bounds how deep flagSpans looks into quoted words, as in
// sh -c "su -c 'mysql -p…'".
const maxNesting = 3

// flagSpans appends to dst the spans of the values of the flags of the
// rules of allowed among the words of s, which begins at offset off of the
// string being redacted. A quoted word with several words inside, such as
// the script of sh -c '…', is looked into in turn, up to depth levels.
func (x *ruleIndex) flagSpans(allowed ruleSet, s string, off, depth int, dst []span) []span {
	var wordBuf [16]string // most scripts are short: no allocation
	var offBuf [16]int
	words, offs := shellWords(s, wordBuf[:0], offBuf[:0])
	for _, h := range x.walk(allowed, "", words, nil) {
		dst = append(dst, span{off + offs[h.tok] + h.start, off + offs[h.tok] + h.end})
	}
	if depth--; depth > 0 {
		for i, w := range words {
			// shellWords strips the quotes around a whole word only.
			quoted := offs[i] > 0 && (s[offs[i]-1] == '\'' || s[offs[i]-1] == '"')
			if quoted && strings.ContainsAny(w, " \t\n") {
				dst = x.flagSpans(allowed, w, off+offs[i], depth, dst)
			}
		}
	}
	return dst
}
