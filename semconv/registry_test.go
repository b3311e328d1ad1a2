package semconv_test

import (
	"bytes"
	"go/ast"
	"go/build"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/semconv"
	"github.com/vigil-otel/vigil/semconv/internal/registry"
)

// registryDir and docPath are where go generate reads and writes, from this
// package's directory.
const (
	registryDir = "registry"
	docPath     = "../docs/semconv.md"
)

// vigilNamespace reports whether key is in a namespace vigil may define
// keys under: its own, and ECS's threat fields, which it takes while
// OpenTelemetry has no ATT&CK keys (see threat.yaml).
func vigilNamespace(key string) bool {
	return strings.HasPrefix(key, "vigil.") || strings.HasPrefix(key, "threat.")
}

func TestDocsCurrent(t *testing.T) {
	got, err := registry.Document(registryDir)
	require.NoError(t, err)
	want, err := os.ReadFile(docPath)
	require.NoError(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/semconv.md is not what semconv/registry gives (first difference at line %d): run `go generate ./semconv/`",
			firstDifference(got, want))
	}
}

// firstDifference returns the number of the first line at which a and b
// differ.
func firstDifference(a, b []byte) int {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(la), len(lb)) {
		if !bytes.Equal(la[i], lb[i]) {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}

func TestSchemaURLIsTheDependency(t *testing.T) {
	r, err := registry.Load(registryDir)
	require.NoError(t, err)
	require.Len(t, r.Manifest.Dependencies, 1)
	require.Equal(t, semconv.SchemaURL, r.Manifest.Dependencies[0].SchemaURL,
		"semconv.SchemaURL and the registry's dependency name different releases of the semantic conventions")
}

// TestRegistryAgreesWithCode checks package semconv against the registry,
// on one type-check of the package: every key, event and metric name it
// declares is in the registry and the other way round, and the code sets
// each key to a value of its registry type.
func TestRegistryAgreesWithCode(t *testing.T) {
	res, err := registry.LoadResolved(registryDir)
	require.NoError(t, err)
	decl := declarations(t)
	t.Run("EveryKeyInRegistry", func(t *testing.T) { everyKeyInRegistry(t, res, decl) })
	t.Run("KeyTypesMatchRegistry", func(t *testing.T) { keyTypesMatchRegistry(t, res, decl) })
}

func everyKeyInRegistry(t *testing.T, res *registry.Resolved, decl semconvDecls) {
	listed := listedAttributes(res)
	signals := map[string]map[string]bool{registry.EventGroup: {}, registry.MetricGroup: {}}
	for _, g := range res.Groups {
		switch g.Type {
		case registry.EventGroup:
			signals[g.Type][g.Name] = true
		case registry.MetricGroup:
			signals[g.Type][g.MetricName] = true
		}
	}

	for key, c := range decl.keys {
		a, ok := listed[key]
		switch {
		case !ok:
			t.Errorf("semconv.%s (%q) is not in semconv/registry", c.name, key)
		case c.upstream && !a.Upstream:
			t.Errorf("semconv.%s (%q) is an upstream key: the registry must ref it, not define it", c.name, key)
		case !c.upstream && a.Upstream:
			t.Errorf("semconv.%s (%q) spells out a key the upstream registry defines: use the upstream constant", c.name, key)
		case !c.upstream && !vigilNamespace(key):
			t.Errorf("semconv.%s (%q) is defined by vigil outside the namespaces it may define (vigil.*, ECS threat.*)", c.name, key)
		}
	}
	listedFuncs := map[string]bool{}
	for key, a := range listed {
		if a.UpstreamFunc != "" {
			// A template has no key constant: a function of package
			// semconv makes its attributes with the upstream one.
			listedFuncs[a.UpstreamFunc] = true
			if _, ok := decl.templates[a.UpstreamFunc]; !ok {
				t.Errorf("registry template %q has no function in package semconv that calls the upstream %s", key, a.UpstreamFunc)
			}
			continue
		}
		if _, ok := decl.keys[key]; !ok {
			t.Errorf("registry attribute %q has no constant in package semconv", key)
		}
	}
	for upstreamFunc, name := range decl.templates {
		if !listedFuncs[upstreamFunc] {
			t.Errorf("semconv.%s makes attributes with the upstream %s, whose template is not in semconv/registry", name, upstreamFunc)
		}
	}
	for typ, names := range map[string]map[string]string{registry.EventGroup: decl.events, registry.MetricGroup: decl.metrics} {
		for name, constName := range names {
			if !signals[typ][name] {
				t.Errorf("semconv.%s (%q) is not a %s of semconv/registry", constName, name, typ)
			}
		}
		for name := range signals[typ] {
			if _, ok := names[name]; !ok {
				t.Errorf("registry %s %q has no constant in package semconv", typ, name)
			}
		}
	}
}

// listedAttributes returns the attributes of the registry's attribute
// groups, by key.
func listedAttributes(res *registry.Resolved) map[string]registry.ResolvedAttribute {
	listed := map[string]registry.ResolvedAttribute{}
	for _, g := range res.Groups {
		if g.Type != registry.AttributeGroup {
			continue
		}
		for _, a := range g.Attributes {
			listed[a.Key] = a
		}
	}
	return listed
}

// keyConst is an exported attribute.Key constant of package semconv.
type keyConst struct {
	name string
	// upstream is set when the constant is a constant of the upstream Go
	// package: `XKey = otel.XKey`.
	upstream bool
}

// semconvDecls is what package semconv declares, by value: its keys, its
// event names (constants named ...EventName) and its metric names
// (constants named Metric...).
type semconvDecls struct {
	keys    map[string]keyConst
	events  map[string]string
	metrics map[string]string
	// templates maps the upstream functions that make template attributes
	// to the exported functions of package semconv that call them.
	templates map[string]string
}

// declarations type-checks package semconv from its sources, so that keys
// aliasing upstream constants resolve to their strings.
func declarations(t *testing.T) semconvDecls {
	t.Helper()
	pkg, err := build.ImportDir(".", 0)
	require.NoError(t, err)
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		files = append(files, f)
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	checked, err := conf.Check("github.com/vigil-otel/vigil/semconv", fset, files, info)
	require.NoError(t, err, "type-check package semconv")

	upstream := map[string]bool{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, v := range vs.Values {
				if sel, ok := v.(*ast.SelectorExpr); ok && i < len(vs.Names) {
					if c, ok := info.Uses[sel.Sel].(*types.Const); ok && strings.HasPrefix(c.Pkg().Path(), "go.opentelemetry.io/otel/semconv/") {
						upstream[vs.Names[i].Name] = true
					}
				}
			}
			return false
		})
	}

	d := semconvDecls{keys: map[string]keyConst{}, events: map[string]string{}, metrics: map[string]string{}, templates: map[string]string{}}
	for _, f := range files {
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || !fn.Name.IsExported() || fn.Recv != nil || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if f, ok := info.Uses[sel.Sel].(*types.Func); ok && strings.HasPrefix(f.Pkg().Path(), "go.opentelemetry.io/otel/semconv/") {
						d.templates[f.Name()] = fn.Name.Name
					}
				}
				return true
			})
		}
	}
	scope := checked.Scope()
	for _, name := range scope.Names() {
		c, ok := scope.Lookup(name).(*types.Const)
		if !ok || !c.Exported() || c.Val().Kind() != constant.String {
			continue
		}
		value := constant.StringVal(c.Val())
		switch {
		case isAttributeKey(c.Type()):
			d.keys[value] = keyConst{name: name, upstream: upstream[name]}
		case strings.HasSuffix(name, "EventName"):
			d.events[value] = name
		case strings.HasPrefix(name, "Metric"):
			d.metrics[value] = name
		}
	}
	return d
}

// isAttributeKey reports whether t is attribute.Key.
func isAttributeKey(t types.Type) bool {
	named, ok := t.(*types.Named)
	return ok && named.Obj().Pkg().Path() == "go.opentelemetry.io/otel/attribute" && named.Obj().Name() == "Key"
}

// setters are the attribute.Key methods that make a value, and the
// registry types each may set.
func setters() map[string][]string {
	return map[string][]string{
		"String": {"string", "enum"}, "Int": {"int"}, "Int64": {"int"}, "Bool": {"boolean"}, "Float64": {"double"},
		"StringSlice": {"string[]"}, "IntSlice": {"int[]"}, "Int64Slice": {"int[]"}, "BoolSlice": {"boolean[]"},
		"Float64Slice": {"double[]"},
	}
}

// keyTypesMatchRegistry checks, where the code says it, that a key is
// set to a value of its registry type: semconv.ProcessPIDKey.Int64(...) for
// an int.
func keyTypesMatchRegistry(t *testing.T, res *registry.Resolved, decl semconvDecls) {
	listed := listedAttributes(res)
	byName := map[string]string{}
	for key, c := range decl.keys {
		byName[c.name] = key
	}
	set := setters()

	for _, f := range moduleFiles(t) {
		local := importName(f.ast, "github.com/vigil-otel/vigil/semconv")
		if local == "" {
			continue
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			method, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			keySel, ok := method.X.(*ast.SelectorExpr)
			if !ok || !isIdent(keySel.X, local) {
				return true
			}
			key, ok := byName[keySel.Sel.Name]
			want, isSetter := set[method.Sel.Name]
			if !ok || !isSetter {
				return true
			}
			if typ := listed[key].Type; !slices.Contains(want, typ) {
				t.Errorf("%s: %s.%s.%s sets %q, whose registry type is %s",
					f.position(call.Pos()), local, keySel.Sel.Name, method.Sel.Name, key, typ)
			}
			return true
		})
	}
}

// goFile is a parsed Go file of the module.
type goFile struct {
	path string // relative to the module root
	fset *token.FileSet
	ast  *ast.File
}

// position writes p as path:line.
func (f goFile) position(p token.Pos) string {
	return f.path + ":" + strconv.Itoa(f.fset.Position(p).Line)
}

// moduleFiles parses every Go file of the module outside package semconv,
// tests included, but not testdata, vendored or generated code.
func moduleFiles(t *testing.T) []goFile {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var files []goFile
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			name := d.Name()
			if rel == "semconv" || name == "testdata" || name == "vendor" || (strings.HasPrefix(name, ".") && rel != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Ext(path) != ".go" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		if ast.IsGenerated(f) {
			return nil
		}
		files = append(files, goFile{path: filepath.ToSlash(rel), fset: fset, ast: f})
		return nil
	})
	require.NoError(t, err)
	return files
}

// importName returns the name f refers to the package at path by, or "".
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if strings.Trim(imp.Path.Value, `"`) != path {
			continue
		}
		if imp.Name != nil {
			return imp.Name.Name
		}
		return path[strings.LastIndex(path, "/")+1:]
	}
	return ""
}

// isIdent reports whether e is the identifier name.
func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}
