package redact

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"plain /usr/bin/ls", 100, "plain /usr/bin/ls"},
		{"line one\n\tline two", 100, "line one\n\tline two"},
		{"a\x1b[31mred\x00", 100, `a\x1b[31mred\x00`},
		{"cr\rdel\x7f", 100, `cr\x0ddel\x7f`},
		{"c1\u009b bidi\u202eexe.txt \u2066x\u2069", 100, `c1\u009b bidi\u202eexe.txt \u2066x\u2069`},
		{"bad\xff\xfeend", 100, "bad\uFFFD\uFFFDend"},
		{"\uFFFD stays", 100, "\uFFFD stays"},
		{"abcdef", 6, "abcdef"},
		{"abcdefg", 6, "abc…"},
		{"ééééé", 7, "éé…"},
		{"éééé", 6, "é…"}, // 2+3 fit; a second é would not leave room
		{"\x1b\x1b\x1b", 9, `\x1b…`},
		{"\x1b\x1b", 5, "…"},
		{"abcdef", 2, "ab"}, // no room for the ellipsis
		{"abcdef", 0, ""},
		{"abcdef", -1, ""},
		{"", 10, ""},
	}
	for _, tt := range tests {
		got := Clean(tt.in, tt.max)
		assert.Equal(t, tt.want, got, "Clean(%q, %d)", tt.in, tt.max)
		assert.LessOrEqual(t, len(got), max(tt.max, 0))
		assert.True(t, utf8.ValidString(got))
	}
}

func TestCleanEveryControl(t *testing.T) {
	for r := rune(0); r < 0xa0; r++ {
		got := Clean("<"+string(r)+">", 100)
		switch {
		case r == '\t' || r == '\n':
			assert.Equal(t, "<"+string(r)+">", got)
		case r < 0x20 || r == 0x7f:
			assert.Regexp(t, `^<\\x[0-9a-f]{2}>$`, got)
		case r >= 0x80:
			assert.Regexp(t, `^<\\u00[89][0-9a-f]>$`, got)
		default:
			assert.Equal(t, "<"+string(r)+">", got)
		}
	}
}

func TestCleanHuge(t *testing.T) {
	huge := strings.Repeat("\x00\xffé\u202e", 1<<18)
	got := Clean(huge, 4096)
	assert.LessOrEqual(t, len(got), 4096)
	assert.True(t, strings.HasSuffix(got, Ellipsis))
	assert.True(t, utf8.ValidString(got))
}

func BenchmarkClean(b *testing.B) {
	args := []string{"git", "commit", "-m", "fix the build", "--no-verify"}
	b.ReportAllocs()
	for b.Loop() {
		for _, a := range args {
			Clean(a, 4096)
		}
	}
}
