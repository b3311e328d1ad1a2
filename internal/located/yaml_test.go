package located

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestYAMLSyntax: each syntax error is placed where the problem is, with
// the construct it broke, where v3 alone gives a construct's first line,
// one too few, or none.
func TestYAMLSyntax(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		line, col  int
		reason     string
	}{
		{"unclosed flow sequence", "a: 1\nb: 2\nc: [1, 2\nd: 4\n", 4, 2,
			"did not find expected ',' or ']' (while parsing a flow sequence from line 3, column 4)"},
		{"unclosed flow mapping", "recipes:\n  - name: x\n    match: {a: 1\n  - name: y\n", 4, 9,
			"did not find expected ',' or '}' (while parsing a flow mapping from line 3, column 12)"},
		{"over-indented key", "log_level: info\notlp:\n  endpoint: http://x\n   bad: 1\n", 4, 7,
			"mapping values are not allowed in this context"},
		{"unclosed quote", "otlp:\n  endpoint: \"http://x\n", 3, 1,
			"found unexpected end of stream (while scanning a quoted scalar from line 2, column 13)"},
		{"tab", "a: 1\n\tb: 2\n", 2, 1,
			"found a tab character that violates indentation (while scanning a plain scalar from line 1, column 4)"},
		{"bad token", "a: 1\nb: @x\n", 2, 4, "found character that cannot start any token"},
		{"first line", "a: b: c\n", 1, 5, "mapping values are not allowed in this context"},
		{"list item among keys", "a:\n  - x\n  y: 1\n", 3, 3,
			"did not find expected '-' indicator (while parsing a block collection from line 2, column 3)"},
		{"key without a colon", "key: value\nkey2 value2\nkey3: v\n", 3, 1,
			"could not find expected ':' (while scanning a simple key from line 2, column 1)"},
		{"end of file in a list", "recipes: [\n", 2, 1, "did not find expected node content"},
		// v3 reads "/memfd:x:" before "}" as a string, v4 as a key, and
		// stops there: v4's problem is another, and v3's line stands.
		{"v4 stops at another problem", "c: {prefix: /memfd:x:}\nb: @x\n", 2, 1, "found character that cannot start any token"},
		{"no line from v3", "a: [a, b]]\n", 1, 10, "did not find expected key (while parsing a block mapping from line 1, column 1)"},
		// v3 says "did not find expected whitespace or line break" with no
		// line; v4 names the problem, and places it.
		{"no line from v3, another problem from v4", "!\"", 1, 2,
			"found character '\"' that is not allowed in a YAML tag (while parsing a tag from line 1, column 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n yaml.Node
			err := yaml.Unmarshal([]byte(tc.yaml), &n)
			require.Error(t, err)
			line, col, reason := YAMLSyntax([]byte(tc.yaml), err)
			require.Equal(t, tc.line, line, "line")
			require.Equal(t, tc.col, col, "column")
			require.Equal(t, tc.reason, reason)
		})
	}
}
