package recipe

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func TestBuiltinCatalogHoldsExecExample(t *testing.T) {
	recipes, errs := Builtin()
	require.Empty(t, errs)
	require.Len(t, recipes, 1)
	r := recipes[0]
	require.Equal(t, "exec_example", r.Name)
	require.Equal(t, "Tool execution example", r.Description)
	require.Equal(t, ATTACK{ID: "TA0042", Name: "Resource Development"}, r.Tactic)
	require.Equal(t, ATTACK{ID: "T1059", Name: "Command and Scripting Interpreter"}, r.Technique)
	require.Equal(t, Low, r.Importance)
	require.Equal(t, BuiltinRuleset, r.Ruleset)
	require.Equal(t, "vigil/exec_example.yaml:4", r.Source)
}

func TestEngineMatchesByBasenameAndPath(t *testing.T) {
	recipes, errs := Parse("t.yaml", []byte(`
recipes:
  - name: by_name
    description: d
    tactic: {id: TA0042, name: Resource Development}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: low
    match: {executable: {basename: [zip, gzip]}}
  - name: by_path
    description: d
    tactic: {id: TA0002, name: Execution}
    technique: {id: T1059.004, name: Unix Shell}
    importance: critical
    match: {executable: {path: /usr/bin/zip}}
`), "test")
	require.Empty(t, errs)
	e := NewEngine(recipes)

	names := func(exe string) []string {
		var out []string
		for _, r := range e.Match(exe, nil) {
			out = append(out, r.Name)
		}
		return out
	}
	require.Equal(t, []string{"by_name", "by_path"}, names("/usr/bin/zip"))
	require.Equal(t, []string{"by_name"}, names("/tmp/x/zip"))
	require.Equal(t, []string{"by_name"}, names("/bin/gzip"))
	require.Empty(t, names("/usr/bin/unzip"))
	require.Empty(t, names("/usr/bin/zip2"))

	allocs := testing.AllocsPerRun(100, func() { e.Match("/usr/bin/unzip", nil) })
	require.Zero(t, allocs, "a non-matching exec allocates nothing")
}

func TestBrokenRecipeIsLocatedAndAlone(t *testing.T) {
	src := `recipes:
  - name: good
    description: fine
    tactic: {id: TA0042, name: Resource Development}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: low
    match: {executable: {basename: zip}}
  - name: bad
    description: broken importance
    tactic: {id: TA0042, name: Resource Development}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: urgent
    match:
      executable:
        basename: [ok, "a/b"]
  - description: no name
    tactic: {id: TA42, name: Resource Development}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: low
    colour: red
    match: {executable: {basename: zip}}
`
	recipes, errs := Parse("recipes/broken.yaml", []byte(src), "test")
	require.Len(t, recipes, 1)
	require.Equal(t, "good", recipes[0].Name)

	var msgs []string
	for _, err := range errs {
		msgs = append(msgs, err.Error())
	}
	require.Equal(t, []string{
		`recipes/broken.yaml:12:17: recipe "bad": field importance: unknown importance "urgent", want low, medium, high or critical`,
		`recipes/broken.yaml:15:24: recipe "bad": field match.executable.basename[1]: "a/b" is not a file name`,
		`recipes/broken.yaml:17:18: field tactic.id: "TA42" is not a MITRE ATT&CK id like TA0042`,
		`recipes/broken.yaml:20:5: field colour: unknown field, want one of description, importance, match, name, tactic, technique`,
		`recipes/broken.yaml:16:5: field name: missing`,
	}, msgs)
	var e *Error
	require.ErrorAs(t, errs[0], &e)
	require.Equal(t, Error{File: "recipes/broken.yaml", Line: 12, Column: 17, Recipe: "bad", Field: "importance",
		Reason: `unknown importance "urgent", want low, medium, high or critical`}, *e)
}

func TestSyntaxErrorNamesTheLine(t *testing.T) {
	_, errs := Parse("x.yaml", []byte("recipes:\n  - name: a\n    description: b\n    tactic: x: y\n"), "test")
	require.Len(t, errs, 1)
	require.EqualError(t, errs[0], "x.yaml:4:1: mapping values are not allowed in this context")
}

func TestOneBrokenFileLeavesTheOthers(t *testing.T) {
	fsys := fstest.MapFS{
		"a.yaml": {Data: []byte("recipes: [\n")},
		"b.yaml": {Data: []byte(`recipes:
  - name: fine
    description: d
    tactic: {id: TA0042, name: Resource Development}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: medium
    match: {executable: {path: /usr/bin/zip}}
  - name: fine
    description: again
    tactic: {id: TA0042, name: Resource Development}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: medium
    match: {executable: {path: /usr/bin/zip}}
`)},
	}
	recipes, errs := LoadFS(fsys, "mine")
	require.Len(t, recipes, 1)
	require.Equal(t, Medium, recipes[0].Importance)
	require.Len(t, errs, 2)
	require.ErrorContains(t, errs[0], "mine/a.yaml:1:1: did not find expected node content")
	require.EqualError(t, errs[1], `mine/b.yaml:8: recipe "fine" is already defined at mine/b.yaml:2`)
}
