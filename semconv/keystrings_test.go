package semconv_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/semconv/internal/registry"
)

// keyLike is the shape of an attribute key: lower-case words joined by dots.
func keyLike() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)
}

// keyConstructors are the functions of the attribute and log packages
// whose first argument is a key.
func keyConstructors() map[string]bool {
	return map[string]bool{
		"Key": true, "String": true, "Int": true, "Int64": true, "Bool": true, "Float64": true, "Bytes": true,
		"StringSlice": true, "IntSlice": true, "Int64Slice": true, "BoolSlice": true, "Float64Slice": true,
		"Slice": true, "Map": true, "Empty": true, "Stringer": true,
	}
}

// pdataKeyMethods are the methods of pdata's pcommon.Map whose first
// argument is a key.
func pdataKeyMethods() map[string]bool {
	return map[string]bool{
		"Get": true, "Remove": true, "PutStr": true, "PutInt": true, "PutBool": true, "PutDouble": true,
		"PutEmpty": true, "PutEmptyMap": true, "PutEmptySlice": true, "PutEmptyBytes": true,
	}
}

// TestNoKeyStringsOutsideSemconv checks that package semconv is the one
// place that spells an attribute key, event or metric name: no other Go
// file of the module has a string literal that is a registry key or name, or
// that it passes as a key to attribute's or log's constructors, or as a
// dotted key to a pdata map.
func TestNoKeyStringsOutsideSemconv(t *testing.T) {
	res, err := registry.LoadResolved(registryDir)
	require.NoError(t, err)
	names := map[string]bool{}
	for _, g := range res.Groups {
		for _, name := range []string{g.Name, g.MetricName} {
			if name != "" {
				names[name] = true
			}
		}
		for _, a := range g.Attributes {
			names[a.Key] = true
		}
	}
	for _, f := range moduleFiles(t) {
		if found := keyStrings(f, names); len(found) > 0 {
			t.Errorf("attribute keys spelled outside package semconv:\n\t%s", strings.Join(found, "\n\t"))
		}
	}
}

// keyStrings returns the places in f that spell a key: a literal among
// names (registry keys, event and metric names), a literal key given to attribute's
// or log's constructors, or a dotted literal key given to a pdata map.
func keyStrings(f goFile, names map[string]bool) []string {
	shape, ctors, methods := keyLike(), keyConstructors(), pdataKeyMethods()
	var found []string
	report := func(pos token.Pos, format string, args ...any) {
		found = append(found, f.position(pos)+": "+fmt.Sprintf(format, args...))
	}
	keyPkgs := map[string]bool{}
	for _, path := range []string{"go.opentelemetry.io/otel/attribute", "go.opentelemetry.io/otel/log"} {
		if name := importName(f.ast, path); name != "" {
			keyPkgs[name] = true
		}
	}
	ast.Inspect(f.ast, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			if s, ok := stringLit(n); ok && names[s] {
				report(n.Pos(), "%q is a registry key or name: use its semconv constant", s)
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok || len(n.Args) == 0 {
				return true
			}
			s, ok := stringLit(n.Args[0])
			if !ok || names[s] {
				return true // not a literal, or reported as one
			}
			pkg, isPkg := sel.X.(*ast.Ident)
			switch {
			case isPkg && keyPkgs[pkg.Name] && ctors[sel.Sel.Name]:
				report(n.Pos(), "%s.%s(%q): name the key in package semconv", pkg.Name, sel.Sel.Name, s)
			case methods[sel.Sel.Name] && shape.MatchString(s):
				report(n.Pos(), ".%s(%q): name the key in package semconv", sel.Sel.Name, s)
			}
		}
		return true
	})
	return found
}

// stringLit returns the value of a string literal.
func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// TestKeyStringsFindsEachForm checks the checker: each form it reports, and
// values and non-keys it leaves alone.
func TestKeyStringsFindsEachForm(t *testing.T) {
	const src = `package p

import (
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
)

func f(m interface{ Get(string) any; PutStr(string, string) }) {
	_ = "process.pid"
	_ = attribute.String("my.key", "v")
	_ = attribute.Key("other")
	_ = otellog.Int64("n", 1)
	_ = m.Get("a.b")
	m.PutStr("x.y_z", "v")
	_ = m.Get("NotAKey")
	_ = attribute.StringValue("a.b")
}
`
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "p.go", src, 0)
	require.NoError(t, err)
	found := keyStrings(goFile{path: "p.go", fset: fset, ast: file}, map[string]bool{"process.pid": true})
	want := []string{"p.go:9: ", "p.go:10: ", "p.go:11: ", "p.go:12: ", "p.go:13: ", "p.go:14: "}
	require.Len(t, found, len(want), strings.Join(found, "\n"))
	for i, prefix := range want {
		require.True(t, strings.HasPrefix(found[i], prefix), "%s, want %s...", found[i], prefix)
	}
}
