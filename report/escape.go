package report

import (
	"fmt"
	"html"
	"net/url"
	"strings"
)

// Escaping: a process controls its command line, paths and environment, so
// every such string is escaped for the format that shows it and is never
// read as markup or as a line of the report's own.

// preLine escapes s for one line of a <pre> block: HTML escaped, and a
// line break written \n, so that a command line cannot forge a line of
// the chain.
func preLine(s string) string { return oneLine(html.EscapeString(s)) }

// oneLine writes the line breaks of s as \n and \r: redaction leaves them
// in, and a report's lines are its structure.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\n\r") {
		return s
	}
	return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(s)
}

// cell escapes s for a table cell or inline text and bounds it: HTML
// escaped, and each character that could start Markdown (emphasis, code,
// links and images, tables, math, mentions) written as a character
// reference, so that a hostile string is shown and never read as markup.
// An underscore inside a word starts nothing and stays, which keeps
// recipe names and paths readable.
func cell(s string) string {
	if len(s) > maxCell {
		cut := maxCell
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	var b strings.Builder
	for i, c := range s {
		switch c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\n', '\r':
			b.WriteByte(' ')
		case '_':
			if i > 0 && i+1 < len(s) && isWordByte(s[i-1]) && isWordByte(s[i+1]) {
				b.WriteByte('_')
			} else {
				b.WriteString("&#95;")
			}
		case '|', '\\', '`', '*', '[', ']', '!', '~', '$', '@':
			fmt.Fprintf(&b, "&#%d;", c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// isWordByte says b is an ASCII letter or digit.
func isWordByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// isRuneStart says b begins a UTF-8 sequence.
func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// urlOf returns u for a link when it is an absolute http(s) address
// with a host, "#" otherwise; what could end the link or the line is
// percent-encoded. A recipe's reference comes from its file, which a pull
// request may bring.
func urlOf(u string) string {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Scheme != "http" && parsed.Scheme != "https" || parsed.Host == "" {
		return "#"
	}
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		switch c := u[i]; {
		case c <= ' ' || c >= 0x7f || strings.IndexByte("()<>\"|`[]\\", c) >= 0:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
