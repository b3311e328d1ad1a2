package recipe

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/recipe/attack"
)

// TestCatalog checks every built-in recipe: it loads, it has its page's
// content, and its own tests pass, with at least one exec it must fire on
// and one close to it that it must not.
func TestCatalog(t *testing.T) {
	recipes, errs := LoadCatalog(nil)
	require.Empty(t, errs)
	results := fixtures(t, recipes) // with the recipes that supersede each
	for _, r := range recipes {
		t.Run(r.Name, func(t *testing.T) {
			d := r.Documentation
			require.NotEmpty(t, d.Summary, "documentation.summary")
			require.NotEmpty(t, d.Analysis, "documentation.analysis")
			require.NotEmpty(t, d.Pipeline, "documentation.pipeline")
			require.NotEmpty(t, d.Actions, "documentation.actions")
			var fires, holds int
			for _, res := range results {
				if res.Recipe != r {
					continue
				}
				require.True(t, res.Passed(), "%s:%d: test %q: fired=%v, want %v", r.Source, res.Fixture.Line, res.Fixture.Name, res.Fired, res.Fixture.Expect)
				if res.Fixture.Expect {
					fires++
				} else {
					holds++
				}
			}
			// Filed where ATT&CK files the behaviour: the tactic is one
			// that a technique of the recipe serves.
			served := false
			for _, tech := range r.Techniques {
				at, ok := attack.LookupTechnique(tech.Named().ID)
				require.True(t, ok, tech.Named().ID)
				tactic, _ := attack.LookupTactic(r.Tactic.ID)
				served = served || at.Serves(tactic)
			}
			require.True(t, served, "ATT&CK files none of %s under %s %s", r.TechniqueLabel(), r.Tactic.ID, r.Tactic.Name)
			require.Positive(t, fires, "a test on which the recipe fires")
			require.Positive(t, holds, "a close test on which it does not")
		})
	}
}

func TestFixtureFailureIsReported(t *testing.T) {
	r := parse(t, `recipes:
  - name: r`+header+`    match: {executable: {name: zip}}
    tests:
      - {name: wrong, match: true, exec: {exe: /usr/bin/unzip}}
      - {match: false, exec: {exe: /usr/bin/tar}}
`)
	res := fixtures(t, r)
	require.Len(t, res, 2)
	require.False(t, res[0].Passed())
	require.True(t, res[1].Passed())
	require.Equal(t, "test 2", res[1].Fixture.Name)
	require.Equal(t, 9, res[0].Fixture.Line, fmt.Sprint(res[0].Fixture))
}

// TestOneFileDefiningANameTwice: a user's file with two recipes of one
// name loads the first, says so of the second, and the catalog compiles.
func TestOneFileDefiningANameTwice(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mine.yaml")
	recipe := `  - name: my_tool
    version: 1
    description: My tool ran
    tactic: {id: TA0002, name: Execution}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: low
    match:
      executable: {name: %s}
`
	require.NoError(t, os.WriteFile(file, []byte("recipes:\n"+fmt.Sprintf(recipe, "mytool")+fmt.Sprintf(recipe, "othertool")), 0o600))
	recipes, errs := LoadCatalog([]string{file})
	require.Len(t, errs, 1)
	require.ErrorContains(t, errs[0], `recipe "my_tool" is already defined at `+file+":2")
	_, err := NewEngine(recipes)
	require.NoError(t, err)
}

// TestOverridesNamesTheFirstRuleset: a built-in redefined in one
// directory, then again in another, says it overrides the built-in; a
// recipe of one's own overrides nothing.
func TestOverridesNamesTheFirstRuleset(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	redefine := func(dir, name string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(`recipes:
  - name: `+name+`
    version: 1
    description: redefined
    tactic: {id: TA0002, name: Execution}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: low
    enabled: false
    match: {executable: {name: zip}}
`), 0o644))
	}
	redefine(first, "exec_example")
	redefine(second, "exec_example")
	redefine(second, "my_own")
	recipes, errs := LoadCatalog([]string{first, second})
	require.Empty(t, errs)
	byName := map[string]*Recipe{}
	for _, r := range recipes {
		byName[r.Name] = r
	}
	require.Equal(t, second, byName["exec_example"].Ruleset)
	require.Equal(t, BuiltinRuleset, byName["exec_example"].Overrides)
	require.False(t, byName["exec_example"].Enabled)
	require.Empty(t, byName["my_own"].Overrides)
	require.Empty(t, byName["hidden_elf_exec"].Overrides, "a built-in left alone")

	files, err := Files(second)
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(second, "exec_example.yaml"), filepath.Join(second, "my_own.yaml")}, files)
	files, err = Files(files[1])
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(second, "my_own.yaml")}, files)
	_, err = Files(filepath.Join(second, "absent"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
