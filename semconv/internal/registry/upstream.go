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
	// Func names the Go function that makes a template attribute (Type
	// "template[...]"), such as ProcessEnvironmentVariable for
	// process.environment_variable.<key>. The generated package documents
	// no stability for templates: Stability is then empty.
	Func string
}

// templateType is the registry type of a template attribute whose values
// have the registry type t: template[string].
func templateType(t string) string { return "template[" + t + "]" }

// IsTemplate says whether a registry type is a template's.
func IsTemplate(typ string) bool { return strings.HasPrefix(typ, "template[") }

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

// collectUpstream adds every documented `XKey = attribute.Key("k")` of f,
// and every template attribute's function.
func collectUpstream(f *ast.File, attrs map[string]Upstream) {
	for _, decl := range f.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok {
			if key, u, ok := templateFunc(fn); ok {
				attrs[key] = u
			}
			continue
		}
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

// templateFunc reads a template attribute's function, as the Go
// package's generator writes it:
//
//	// ProcessEnvironmentVariable returns an attribute KeyValue conforming to the
//	// "process.environment_variable" semantic conventions. It represents the process
//	// environment variables, ...
//	func ProcessEnvironmentVariable(key string, val string) attribute.KeyValue {
//		return attribute.String("process.environment_variable."+key, val)
//	}
//
// A template's key is its prefix; each attribute adds ".<key>" to it.
func templateFunc(fn *ast.FuncDecl) (string, Upstream, bool) {
	params := fn.Type.Params.List
	if fn.Doc == nil || fn.Recv != nil || len(params) != 2 || len(params[0].Names) != 1 || params[0].Names[0].Name != "key" {
		return "", Upstream{}, false
	}
	body := fn.Body
	if body == nil || len(body.List) != 1 {
		return "", Upstream{}, false
	}
	ret, ok := body.List[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) != 1 {
		return "", Upstream{}, false
	}
	call, ok := ret.Results[0].(*ast.CallExpr)
	if !ok || len(call.Args) != 2 {
		return "", Upstream{}, false
	}
	// "process.environment_variable."+key
	sum, ok := call.Args[0].(*ast.BinaryExpr)
	if !ok || sum.Op != token.ADD {
		return "", Upstream{}, false
	}
	lit, ok := sum.X.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", Upstream{}, false
	}
	prefix, err := strconv.Unquote(lit.Value)
	if err != nil || !strings.HasSuffix(prefix, ".") {
		return "", Upstream{}, false
	}
	var typ string
	switch t := params[1].Type.(type) {
	case *ast.Ident:
		typ = goTypes()[t.Name]
	case *ast.Ellipsis: // val ...string: an array
		if id, ok := t.Elt.(*ast.Ident); ok && goTypes()[id.Name] != "" {
			typ = goTypes()[id.Name] + "[]"
		}
	}
	if typ == "" {
		return "", Upstream{}, false
	}
	key := strings.TrimSuffix(prefix, ".")
	u := Upstream{Type: templateType(typ), Func: fn.Name.Name}
	first := oneLine(strings.Split(strings.TrimSpace(fn.Doc.Text()), "\n\n")[0])
	if _, brief, ok := strings.Cut(first, "It represents "); ok {
		u.Brief = upperFirst(strings.TrimPrefix(brief, "the "))
	}
	return key, u, true
}

// goTypes maps the Go types of attribute values to registry types.
func goTypes() map[string]string {
	return map[string]string{"string": "string", "int": "int", "int64": "int", "bool": "boolean", "float64": "double"}
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
