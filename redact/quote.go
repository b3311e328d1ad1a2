package redact

import (
	"fmt"
	"strings"
	"unicode"
)

// Quote returns s as it is when it is plain printable text, and in double
// quotes otherwise, with quotes, newlines and tabs escaped and anything
// else unprintable written \uHHHH. A backslash stays single: s has been
// through Clean, whose \x1b escapes would read \\x1b otherwise.
func Quote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !unicode.IsPrint(r) || unicode.IsSpace(r) || r == '"'
	}) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == ' ' || unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// QuoteArgs writes an argument list as one line, each argument Quoted,
// so that where one ends and the next begins can be read.
func QuoteArgs(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Quote(a))
	}
	return b.String()
}
