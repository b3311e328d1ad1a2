package located

import (
	"errors"
	"fmt"
	"strings"

	yaml4 "go.yaml.in/yaml/v4"
)

// YAMLSyntax locates a syntax error that go.yaml.in/yaml/v3 reported for
// data: the line and column of the problem, and the reason, with where
// the construct it broke began. That library names at most a line, often
// the construct's first one, and never a column; go.yaml.in/yaml/v4, whose
// parser keeps each error's position, reads data again to find them. Its
// reading is not v3's everywhere (a colon before a flow collection's end,
// for one), so its answer is taken when it finds the same problem, or
// when v3 gave no line at all (v4 then names the problem it places, often
// more plainly); otherwise the line v3 gave stands, at column 1, or 0 when
// neither places one.
func YAMLSyntax(data []byte, err error) (line, col int, reason string) {
	reason = strings.TrimPrefix(err.Error(), "yaml: ")
	if l, rest, ok := strings.Cut(reason, ": "); ok {
		if _, scanErr := fmt.Sscanf(l, "line %d", &line); scanErr == nil {
			col, reason = 1, rest
		}
	}
	var doc yaml4.Node
	var le *yaml4.LoadError
	if !errors.As(yaml4.Unmarshal(data, &doc), &le) || le.Message != reason && line != 0 || le.Mark.Line == 0 {
		return line, col, reason
	}
	reason = le.Message
	if c := le.ContextMark; le.ContextMsg != "" && c.Line > 0 && c != le.Mark {
		reason = fmt.Sprintf("%s (%s from line %d, column %d)", reason, le.ContextMsg, c.Line, c.Column)
	}
	return le.Mark.Line, max(le.Mark.Column, 1), reason
}
