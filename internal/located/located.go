// Package located formats problems found in the files users write
// (recipes, configuration) the one way vigil reports them:
// file:line:col: [what: ]field F: reason, which editors and CI logs turn
// into links; and it finds where a YAML syntax error is ([YAMLSyntax]).
package located

import (
	"fmt"
	"strings"
)

// Format writes a located problem. line 0 leaves out the position; what
// (such as `recipe "x"`) and field are left out when empty.
func Format(file string, line, col int, what, field, reason string) string {
	var b strings.Builder
	b.WriteString(file)
	if line > 0 {
		fmt.Fprintf(&b, ":%d:%d", line, col)
	}
	if what != "" {
		fmt.Fprintf(&b, ": %s", what)
	}
	if field != "" {
		fmt.Fprintf(&b, ": field %s", field)
	}
	b.WriteString(": ")
	b.WriteString(reason)
	return b.String()
}
