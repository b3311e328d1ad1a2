package redact

import (
	"unicode/utf8"
)

// Ellipsis ends a string that Clean shortened.
const Ellipsis = "…"

// Clean returns s made safe to export and to show:
//
//   - valid UTF-8: each byte that is not part of a valid UTF-8 sequence
//     becomes U+FFFD;
//   - no control characters: those of C0 (U+0000 to U+001F) but tab and
//     newline, which sh -c scripts legitimately hold, and DEL are written
//     \xHH (an ESC as \x1b, a NUL as \x00, a carriage return as \x0d); those
//     of C1 (U+0080 to U+009F) and the bidirectional controls that can make
//     text read otherwise than it is (U+061C, U+200E, U+200F, U+202A to
//     U+202E, U+2066 to U+2069) are written \uHHHH. A backslash is not
//     doubled: the result is for reading, not for parsing back;
//   - at most max bytes: a longer result is cut at a character (or escape)
//     boundary and ends in Ellipsis, all within max bytes. A max of 0 or
//     less gives "".
//
// A string that needs none of this is returned as it is, without a copy.
func Clean(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if len(s) <= max && safe(s) {
		return s
	}
	limit, mark := max-len(Ellipsis), Ellipsis
	if limit < 0 { // no room for the mark
		limit, mark = max, ""
	}
	buf := make([]byte, 0, min(len(s)+len(s)/8, max))
	fit := 0 // length of buf at the last boundary within limit
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		size := escapedLen(r, n)
		if len(buf)+size > max {
			return string(append(buf[:fit], mark...))
		}
		buf = appendEscaped(buf, r, n)
		if len(buf) <= limit {
			fit = len(buf)
		}
	}
	return string(buf)
}

// safe reports whether s is valid UTF-8 without any character that Clean
// escapes.
func safe(s string) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if control(rune(c)) {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || control(r) {
			return false
		}
		i += n
	}
	return true
}

// control reports whether Clean escapes r.
func control(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\t' && r != '\n'
	case r < 0x7f:
		return false
	case r <= 0x9f:
		return true // DEL and C1
	}
	switch r {
	case 0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069:
		return true
	}
	return false
}

// escapedLen is how many bytes appendEscaped writes for the rune r that
// took n bytes of input.
func escapedLen(r rune, n int) int {
	switch {
	case r == utf8.RuneError && n == 1:
		return len(string(utf8.RuneError))
	case !control(r):
		return n
	case r < utf8.RuneSelf:
		return len(`\x00`)
	}
	return len(`\u0000`)
}

// appendEscaped appends the rune r, that took n bytes of input, as Clean
// writes it.
func appendEscaped(buf []byte, r rune, n int) []byte {
	const hex = "0123456789abcdef"
	switch {
	case r == utf8.RuneError && n == 1, !control(r):
		return utf8.AppendRune(buf, r)
	case r < utf8.RuneSelf:
		return append(buf, '\\', 'x', hex[r>>4], hex[r&0xf])
	}
	return append(buf, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}
