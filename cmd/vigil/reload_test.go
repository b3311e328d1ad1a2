package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/recipe"
)

func TestBuiltinChanges(t *testing.T) {
	builtin := func(name string, enabled bool) *recipe.Recipe {
		return &recipe.Recipe{Name: name, Enabled: enabled, Ruleset: recipe.BuiltinRuleset, Source: "vigil/" + name + ".yaml:2"}
	}
	mine := func(name string, enabled bool, source string) *recipe.Recipe {
		return &recipe.Recipe{Name: name, Enabled: enabled, Ruleset: "/etc/vigil/recipes", Overrides: recipe.BuiltinRuleset, Source: source}
	}
	own := &recipe.Recipe{Name: "my_tool", Enabled: true, Ruleset: "/etc/vigil/recipes", Source: "/etc/vigil/recipes/mine.yaml:2"}
	start := builtinStates([]*recipe.Recipe{builtin("exec_example", true), builtin("curl_pipe_shell", true), builtin("off_by_default", false), own})
	require.Len(t, start, 3, "a recipe of one's own is no built-in")

	for _, tc := range []struct {
		name  string
		after []*recipe.Recipe
		want  []builtinChange
	}{
		{"nothing changed", []*recipe.Recipe{builtin("exec_example", true), builtin("curl_pipe_shell", true), builtin("off_by_default", false), own}, nil},
		{"disabled and replaced", []*recipe.Recipe{mine("exec_example", false, "/etc/vigil/recipes/off.yaml:2"), builtin("curl_pipe_shell", true), builtin("off_by_default", false)},
			[]builtinChange{{recipe: "exec_example", change: "enabled: true -> false; replaced by /etc/vigil/recipes/off.yaml:2", weakened: true}}},
		{"replaced, still enabled", []*recipe.Recipe{builtin("exec_example", true), mine("curl_pipe_shell", true, "/etc/vigil/recipes/curl.yaml:2"), builtin("off_by_default", false)},
			[]builtinChange{{recipe: "curl_pipe_shell", change: "replaced by /etc/vigil/recipes/curl.yaml:2", weakened: true}}},
		{"turned on by one's own definition", []*recipe.Recipe{builtin("exec_example", true), builtin("curl_pipe_shell", true), mine("off_by_default", true, "/etc/vigil/recipes/on.yaml:2")},
			[]builtinChange{{recipe: "off_by_default", change: "enabled: false -> true; replaced by /etc/vigil/recipes/on.yaml:2", weakened: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, builtinChanges(start, builtinStates(tc.after)))
		})
	}

	// From a replaced built-in: a line moved in its file is no change;
	// the built-in back is one, which weakens nothing.
	replaced := builtinStates([]*recipe.Recipe{mine("exec_example", false, "/etc/vigil/recipes/off.yaml:2")})
	require.Empty(t, builtinChanges(replaced, builtinStates([]*recipe.Recipe{mine("exec_example", false, "/etc/vigil/recipes/off.yaml:9")})))
	require.Equal(t, []builtinChange{{recipe: "exec_example", change: "enabled: false -> true; the built-in definition is back, replacing /etc/vigil/recipes/off.yaml:2"}},
		builtinChanges(replaced, builtinStates([]*recipe.Recipe{builtin("exec_example", true)})))
}
