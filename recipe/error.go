package recipe

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vigil-otel/vigil/internal/located"
)

// Error is a problem with one recipe or one recipe file, located precisely
// enough for its author to fix it.
type Error struct {
	// File, Line and Column are where the problem is: the field's own
	// place when the parser found it, the recipe's when the engine did
	// (Column 0), nothing for a recipe built in Go.
	File   string
	Line   int
	Column int
	// Recipe is the name of the recipe at fault, empty when unknown.
	Recipe string
	// Field is the path of the faulty field, such as "match.executable.name.regex[1]".
	Field  string
	Reason string
}

func (e *Error) Error() string {
	what := ""
	if e.Recipe != "" {
		what = fmt.Sprintf("recipe %q", e.Recipe)
	}
	file, line := e.File, e.Line
	if line > 0 && e.Column == 0 {
		file, line = file+":"+strconv.Itoa(line), 0
	}
	return strings.TrimPrefix(located.Format(file, line, e.Column, what, e.Field, e.Reason), ": ")
}

// locateAtSource places an error the compiler found at the recipe's
// source, file:line.
func locateAtSource(e *Error, source string) *Error {
	e.File, e.Line = sourceLine(source)
	return e
}

// sourceLine splits a recipe's Source, file:line, into its parts; a
// recipe built in Go has neither.
func sourceLine(source string) (string, int) {
	i := strings.LastIndexByte(source, ':')
	if i < 0 {
		return source, 0
	}
	line, err := strconv.Atoi(source[i+1:])
	if err != nil {
		return source, 0
	}
	return source[:i], line
}

// related says whether field a is b, or inside it, or holds it: one
// problem, which a second error about the other would only repeat.
func related(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	return a == b || b == "" || strings.HasPrefix(a, b) && (a[len(b)] == '.' || a[len(b)] == '[')
}
