package registry

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeRegistry writes a manifest and one file of groups into a new
// directory.
func writeRegistry(t *testing.T, groups string) string {
	t.Helper()
	dir := t.TempDir()
	manifest := "schema_url: https://example.com/r/0.1.0\ndependencies:\n  - schema_url: https://opentelemetry.io/schemas/1.43.0\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, manifestFile), []byte(manifest), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "groups.yaml"), []byte(groups), 0o644))
	return dir
}

func upstream() map[string]Upstream {
	return map[string]Upstream{
		"process.pid":                  {Type: "int", Stability: "release_candidate", Brief: "Process identifier (PID).", Examples: "1234"},
		"process.environment_variable": {Type: "template[string]", Brief: "Process environment variables.", Func: "ProcessEnvironmentVariable"},
	}
}

// TestTemplate: an upstream template's reference states its stability,
// which the Go package does not say, and signals take it from there; the
// table shows the key with the part each attribute adds.
func TestTemplate(t *testing.T) {
	dir := writeRegistry(t, `
groups:
  - id: g
    type: attribute_group
    brief: b
    attributes:
      - ref: process.environment_variable
        stability: development
        note: Only LD_PRELOAD.
  - id: e
    type: event
    name: e
    stability: development
    brief: b
    attributes:
      - ref: process.environment_variable
`)
	r, err := Load(dir)
	require.NoError(t, err)
	res, err := Resolve(r, upstream())
	require.NoError(t, err)
	want := ResolvedAttribute{Key: "process.environment_variable", Type: "template[string]", Stability: "development",
		Brief: "Process environment variables.", Note: "Only LD_PRELOAD.", RequirementLevel: "recommended", Upstream: true,
		UpstreamFunc: "ProcessEnvironmentVariable"}
	require.Equal(t, []ResolvedAttribute{want}, res.Groups[0].Attributes)
	require.Equal(t, "development", res.Groups[1].Attributes[0].Stability)
	require.Contains(t, string(Markdown(res)), "| `process.environment_variable.<key>` | template[string] | development (OpenTelemetry) |")
}

func TestTemplateFunc(t *testing.T) {
	src := `package semconv

// ProcessEnvironmentVariable returns an attribute KeyValue conforming to the
// "process.environment_variable" semantic conventions. It represents the process
// environment variables, ` + "`<key>`" + ` being the environment variable name.
func ProcessEnvironmentVariable(key string, val string) attribute.KeyValue {
	return attribute.String("process.environment_variable."+key, val)
}

// HTTPRequestHeader returns an attribute KeyValue conforming to the
// "http.request.header" semantic conventions. It represents the HTTP request
// headers.
func HTTPRequestHeader(key string, val ...string) attribute.KeyValue {
	return attribute.StringSlice("http.request.header."+key, val)
}

// ProcessPID returns an attribute KeyValue conforming to the "process.pid"
// semantic conventions.
func ProcessPID(val int) attribute.KeyValue {
	return ProcessPIDKey.Int(val)
}
`
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, parser.ParseComments)
	require.NoError(t, err)
	attrs := map[string]Upstream{}
	collectUpstream(f, attrs)
	require.Equal(t, map[string]Upstream{
		"process.environment_variable": {Type: "template[string]", Func: "ProcessEnvironmentVariable",
			Brief: "Process environment variables, `<key>` being the environment variable name."},
		"http.request.header": {Type: "template[string[]]", Func: "HTTPRequestHeader", Brief: "HTTP request headers."},
	}, attrs)
}

func TestResolve(t *testing.T) {
	dir := writeRegistry(t, `
groups:
  - id: registry.vigil
    type: attribute_group
    brief: vigil's own.
    attributes:
      - id: vigil.n
        type: int
        stability: development
        brief: A number.
        examples: [2]
      - ref: process.pid
        note: The pid.
  - id: event.vigil.e
    type: event
    name: vigil.e
    stability: development
    brief: An event.
    attributes:
      - ref: vigil.n
        requirement_level:
          conditionally_required: When counted.
      - ref: process.pid
        requirement_level: required
`)
	r, err := Load(dir)
	require.NoError(t, err)
	res, err := Resolve(r, upstream())
	require.NoError(t, err)
	require.Equal(t, []ResolvedAttribute{
		{Key: "vigil.n", Type: "int", Stability: "development", Brief: "A number.", Examples: "2", RequirementLevel: "recommended"},
		{Key: "process.pid", Type: "int", Stability: "release_candidate", Brief: "Process identifier (PID).", Note: "The pid.", Examples: "1234", RequirementLevel: "recommended", Upstream: true},
	}, res.Groups[0].Attributes)
	require.Equal(t, "conditionally_required: When counted.", res.Groups[1].Attributes[0].RequirementLevel)
	require.Empty(t, res.Groups[1].Attributes[0].Note, "a reference does not repeat its definition's note")
}

func TestResolveRejects(t *testing.T) {
	// group starts a file of one attribute group, g; each case goes on.
	const group = "groups:\n  - id: g\n    type: attribute_group\n    brief: b\n"
	for name, tc := range map[string]struct{ groups, want string }{
		"unknown field": {group + "    colour: red\n", "field colour not found"},
		"unknown ref": {group + `    attributes:
      - ref: nowhere.key
`, `ref "nowhere.key": no such attribute`},
		"upstream key redefined": {group + `    attributes:
      - id: process.pid
        type: int
        stability: development
        brief: b
`, "reference it instead"},
		"stability on a ref": {group + `    attributes:
      - ref: process.pid
        stability: stable
`, "takes the type and stability of its definition"},
		"listed twice": {group + `    attributes:
      - ref: process.pid
  - id: h
    type: attribute_group
    brief: b
    attributes:
      - ref: process.pid
`, `already listed by group "g"`},
		"signal references an unlisted key": {`groups:
  - id: e
    type: event
    name: e
    stability: development
    brief: b
    attributes:
      - ref: process.pid
`, "listed by no attribute group"},
		"template without stability": {group + `    attributes:
      - ref: process.environment_variable
`, "does not say this template's stability"},
		"stability stated by a signal": {group + `    attributes:
      - ref: process.environment_variable
        stability: development
  - id: e
    type: event
    name: e
    stability: development
    brief: b
    attributes:
      - ref: process.environment_variable
        stability: stable
`, "only the attribute group that lists an attribute may state its stability"},
		"string without examples": {group + `    attributes:
      - id: vigil.s
        type: string
        stability: development
        brief: b
`, "examples are required"},
		"metric without instrument": {group + `  - id: m
    type: metric
    metric_name: vigil.m
    unit: "1"
    stability: development
    brief: b
`, `instrument "" is not`},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := Load(writeRegistry(t, tc.groups))
			if err == nil {
				_, err = Resolve(r, upstream())
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestParseKeyDoc(t *testing.T) {
	doc := `SecurityRuleReferenceKey is the attribute Key conforming to the
"security_rule.reference" semantic conventions. It represents the reference
URL to additional information about the rule used to generate this event.

Type: string
RequirementLevel: Recommended
Stability: Development

Examples: "https://en.wikipedia.org/wiki/DNS_over_TLS"
Note: The URL can point to the vendor’s documentation about the rule.
`
	require.Equal(t, Upstream{
		Type:      "string",
		Stability: "development",
		Brief:     "Reference URL to additional information about the rule used to generate this event.",
		Examples:  `"https://en.wikipedia.org/wiki/DNS_over_TLS"`,
	}, parseKeyDoc(doc))
}

func TestUpstreamPackage(t *testing.T) {
	path, err := UpstreamPackage(Dependency{SchemaURL: "https://opentelemetry.io/schemas/1.43.0"})
	require.NoError(t, err)
	require.Equal(t, "go.opentelemetry.io/otel/semconv/v1.43.0", path)
	_, err = UpstreamPackage(Dependency{SchemaURL: "https://example.com/schemas/1.0.0"})
	require.Error(t, err)
}
