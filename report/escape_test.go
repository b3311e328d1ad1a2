package report

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestURLOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.com/docs/a_b.md":       "https://example.com/docs/a_b.md",
		"https://example.com/a b(c)<d>|`[e]`":   "https://example.com/a%20b%28c%29%3Cd%3E%7C%60%5Be%5D%60",
		"https://example.com/\x1b[2J":           "#",
		"https://example.com/x)\n# injected":    "#",
		"javascript:alert(1)":                   "#",
		"/docs/recipes/exec_example.md":         "#",
		"https:///no-host":                      "#",
		"http://example.com/caf\u00e9?q=1#frag": "http://example.com/caf%C3%A9?q=1#frag",
	} {
		require.Equal(t, want, urlOf(in), in)
	}
}

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"net_scan_tool_exec":  "net_scan_tool_exec",
		"_x_ __run_2":         "&#95;x&#95; &#95;&#95;run_2",
		"a|b `c` *d* [e](f)":  "a&#124;b &#96;c&#96; &#42;d&#42; &#91;e&#93;(f)",
		"<img src=x> & @user": "&lt;img src=x&gt; &amp; &#64;user",
		"$x$ ~y~ !z \\w":      "&#36;x&#36; &#126;y&#126; &#33;z &#92;w",
		"line\nbreak\rhere":   "line break here",
		"(s): 2 detection(s)": "(s): 2 detection(s)",
	} {
		require.Equal(t, want, cell(in), in)
	}
}
