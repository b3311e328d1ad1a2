package registry

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// upstreamSchemaPrefix starts the schema URL of every release of the
// OpenTelemetry semantic conventions.
const upstreamSchemaPrefix = "https://opentelemetry.io/schemas/"

// Upstream is an attribute of the upstream registry: what Weaver would read
// from the dependency's YAML.
type Upstream struct {
	Type      string
	Stability string
	Brief     string
	Examples  string
}

// UpstreamPackage returns the import path of the Go package that
// opentelemetry-go generates, with Weaver, from the release of the semantic
// conventions the dependency names. Weaver would fetch the release; offline,
// the package (a module vigil already requires) carries the same facts in
// its doc comments.
func UpstreamPackage(dep Dependency) (string, error) {
	version, ok := strings.CutPrefix(dep.SchemaURL, upstreamSchemaPrefix)
	if !ok || version == "" || strings.Contains(version, "/") {
		return "", fmt.Errorf("dependency %q is not a release of the OpenTelemetry semantic conventions (%s<version>)", dep.SchemaURL, upstreamSchemaPrefix)
	}
	return "go.opentelemetry.io/otel/semconv/v" + version, nil
}

// LoadUpstream finds the Go package of the dependency from the module that
// holds srcDir and reads the attributes it documents, by key.
func LoadUpstream(dep Dependency, srcDir string) (map[string]Upstream, error) {
	path, err := UpstreamPackage(dep)
	if err != nil {
		return nil, err
	}
	pkg, err := build.Default.Import(path, srcDir, 0)
	if err != nil {
		return nil, fmt.Errorf("find the upstream registry's Go package: %w", err)
	}
	fset := token.NewFileSet()
	attrs := map[string]Upstream{}
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(pkg.Dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse the upstream registry's Go package: %w", err)
		}
		collectUpstream(f, attrs)
	}
	if len(attrs) == 0 {
		return nil, fmt.Errorf("no attribute keys documented in %s", pkg.Dir)
	}
	return attrs, nil
}

// collectUpstream adds every documented `XKey = attribute.Key("k")` of f.
func collectUpstream(f *ast.File, attrs map[string]Upstream) {
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			if vs.Doc == nil || len(vs.Values) != 1 {
				continue
			}
			key, ok := keyLiteral(vs.Values[0])
			if !ok {
				continue
			}
			attrs[key] = parseKeyDoc(vs.Doc.Text())
		}
	}
}

// keyLiteral returns k of the expression attribute.Key("k").
func keyLiteral(e ast.Expr) (string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Key" {
		return "", false
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	k, err := strconv.Unquote(lit.Value)
	return k, err == nil
}

// parseKeyDoc reads the doc comment the Go package's generator writes:
//
//	XKey is the attribute Key conforming to the "k" semantic
//	conventions. It represents the <brief>
//
//	Type: int
//	RequirementLevel: Recommended
//	Stability: Release_Candidate
//
//	Examples: 1234
//	Note: ...
func parseKeyDoc(doc string) Upstream {
	var u Upstream
	paragraphs := strings.Split(strings.TrimSpace(doc), "\n\n")
	first := oneLine(paragraphs[0])
	if _, brief, ok := strings.Cut(first, "It represents "); ok {
		u.Brief = upperFirst(strings.TrimPrefix(brief, "the "))
	}
	for _, p := range paragraphs[1:] {
		for line := range strings.SplitSeq(p, "\n") {
			field, value, _ := strings.Cut(line, ": ")
			switch field {
			case "Type":
				u.Type = strings.ToLower(value)
			case "Stability":
				u.Stability = strings.ToLower(value)
			}
		}
		if ex, ok := strings.CutPrefix(p, "Examples: "); ok {
			ex, _, _ = strings.Cut(ex, "\nNote: ")
			u.Examples = oneLine(ex)
		}
	}
	return u
}

// upperFirst capitalises the first letter of s.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
