package recipe_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/recipe"
)

// handBuilt is a recipe built in Go rather than read from a file, with
// every field a recipe needs.
func handBuilt(name string, m recipe.Match) *recipe.Recipe {
	return &recipe.Recipe{
		Name: name, Version: 1, Description: "built in Go",
		Tactic:     recipe.ATTACK{ID: "TA0002", Name: "Execution"},
		Techniques: []recipe.Technique{{ATTACK: recipe.ATTACK{ID: "T1059", Name: "Command and Scripting Interpreter"}}},
		Importance: recipe.Low, Enabled: true, Match: m,
	}
}

// fired returns the names of the recipes e fires on an exec of exe with
// args, under tty ("" for none).
func fired(e *recipe.Engine, exe, tty string, args ...string) []string {
	ev := &event.Event{Kind: event.KindExec, PID: 5, ExePath: exe, TTY: tty}
	p := &proctable.Process{PID: 5, Exe: exe, Args: append([]string{exe}, args...)}
	var out []string
	for _, h := range e.Match(&recipe.Input{Event: ev, Process: p}, nil) {
		out = append(out, h.Recipe.Name)
	}
	return out
}

// TestHandBuiltSpecsMatchAsParsedOnes builds specs in another package,
// as anyone may: each matches as the same recipe read from a file would.
// Before specs and their compiled form were apart, a regular expression
// built so panicked, a flag, a prefix and an expression were ignored, and
// an ArgsMatch left zero matched only execs without arguments.
func TestHandBuiltSpecsMatchAsParsedOnes(t *testing.T) {
	yes := true
	e, err := recipe.NewEngine([]*recipe.Recipe{
		handBuilt("by_regex", recipe.Match{Executable: recipe.FileMatch{Name: recipe.StringMatch{Regex: []string{"^ab", "^cd$"}}}}),
		handBuilt("on_a_terminal", recipe.Match{Executable: recipe.FileMatch{Name: recipe.StringMatch{Exact: []string{"id"}}}, TTY: &yes}),
		handBuilt("by_prefix", recipe.Match{Executable: recipe.FileMatch{Path: recipe.StringMatch{Prefix: []string{"/tmp/"}}}}),
		handBuilt("by_cel", recipe.Match{Executable: recipe.FileMatch{Name: recipe.StringMatch{Exact: []string{"env"}}}, CEL: `"-i" in args`}),
		handBuilt("few_args", recipe.Match{Executable: recipe.FileMatch{Name: recipe.StringMatch{Exact: []string{"ls"}}}, Args: recipe.ArgsMatch{MaxCount: new(1)}}),
	})
	require.NoError(t, err)

	require.Equal(t, []string{"by_regex"}, fired(e, "/usr/bin/abc", ""), "matched, not a panic")
	require.Equal(t, []string{"by_regex"}, fired(e, "/usr/bin/cd", ""))
	require.Empty(t, fired(e, "/usr/bin/cde", ""))

	require.Empty(t, fired(e, "/usr/bin/id", "", "-u"), "no terminal")
	require.Equal(t, []string{"on_a_terminal"}, fired(e, "/usr/bin/id", "pts/0", "-u"), "any number of arguments")

	require.Equal(t, []string{"by_prefix"}, fired(e, "/tmp/x", ""))

	require.Empty(t, fired(e, "/usr/bin/env", "", "-0"))
	require.Equal(t, []string{"by_cel"}, fired(e, "/usr/bin/env", "", "-i", "sh"))

	require.Equal(t, []string{"few_args"}, fired(e, "/usr/bin/ls", "", "-l"))
	require.Empty(t, fired(e, "/usr/bin/ls", "", "-l", "/"))
}

// TestEngineOwnsWhatItRuns edits a spec after the engine compiled it: the
// engine matches as it was.
func TestEngineOwnsWhatItRuns(t *testing.T) {
	r := handBuilt("zip", recipe.Match{Executable: recipe.FileMatch{Name: recipe.StringMatch{Exact: []string{"zip"}}}})
	e, err := recipe.NewEngine([]*recipe.Recipe{r})
	require.NoError(t, err)
	r.Match.Executable.Name.Exact[0] = "tar"
	r.Match.Executable.Name.Prefix = []string{"un"}
	require.Equal(t, []string{"zip"}, fired(e, "/usr/bin/zip", ""))
	require.Empty(t, fired(e, "/usr/bin/tar", ""))
	require.Empty(t, fired(e, "/usr/bin/unzip", ""))
}

// TestInvalidSpecIsAnError gives NewEngine specs that make no sense: each
// is an error naming the recipe and the field, and where the recipe was
// read from when it was, not a panic or a recipe that misbehaves.
func TestInvalidSpecIsAnError(t *testing.T) {
	name := func(m recipe.StringMatch) recipe.Match { return recipe.Match{Executable: recipe.FileMatch{Name: m}} }
	for _, c := range []struct {
		what string
		r    *recipe.Recipe
		err  string
	}{
		{"a regular expression that does not compile",
			handBuilt("r", name(recipe.StringMatch{Regex: []string{"ok", "(unclosed"}})),
			`recipe "r": field match.executable.name.regex[1]: error parsing regexp: missing closing )`},
		{"an empty prefix",
			handBuilt("r", name(recipe.StringMatch{Prefix: []string{""}})),
			`recipe "r": field match.executable.name.prefix[0]: empty string`},
		{"an expression that is not a bool",
			handBuilt("r", recipe.Match{CEL: `args`}),
			`recipe "r": field match.cel: the expression gives list(string), want bool`},
		{"an ancestor at no depth",
			handBuilt("r", recipe.Match{Ancestor: &recipe.AncestorMatch{ProcessMatch: recipe.ProcessMatch{Executable: recipe.FileMatch{Name: recipe.StringMatch{Exact: []string{"sh"}}}}}}),
			`recipe "r": field match.ancestor.depth: 0 is not a whole number of at least 1`},
		{"a match of nothing",
			handBuilt("r", recipe.Match{}),
			`recipe "r": field match: missing, or empty: the recipe would fire on every exec`},
		{"a limit left zero",
			func() *recipe.Recipe {
				r := handBuilt("r", name(recipe.StringMatch{Exact: []string{"zip"}}))
				r.Limit = &recipe.Limit{}
				return r
			}(),
			`recipe "r": field limit.count: 0 is not a whole number of at least 1`},
		{"a spec read from a file, then edited",
			func() *recipe.Recipe {
				r := handBuilt("r", name(recipe.StringMatch{Glob: []string{"[z"}}))
				r.Source = "mine/r.yaml:12"
				return r
			}(),
			`mine/r.yaml:12: recipe "r": field match.executable.name.glob[0]: syntax error in pattern`},
		{"a sub-technique as a technique",
			func() *recipe.Recipe {
				r := handBuilt("r", name(recipe.StringMatch{Exact: []string{"sh"}}))
				r.Techniques = []recipe.Technique{{ATTACK: recipe.ATTACK{ID: "T1059.004", Name: "Unix Shell"}}}
				return r
			}(),
			`recipe "r": field technique.id: T1059.004 is a sub-technique: give it as Sub, with T1059 as the technique`},
	} {
		t.Run(c.what, func(t *testing.T) {
			e, err := recipe.NewEngine([]*recipe.Recipe{c.r})
			require.Nil(t, e)
			require.ErrorContains(t, err, c.err)
			var re *recipe.Error
			require.ErrorAs(t, err, &re)
			require.Equal(t, "r", re.Recipe)
		})
	}

	_, err := recipe.NewEngine([]*recipe.Recipe{
		handBuilt("twice", recipe.Match{Memfd: new(true)}),
		handBuilt("twice", recipe.Match{Deleted: new(true)}),
	})
	require.ErrorContains(t, err, `recipe "twice": field name: another recipe has this name`)
	require.True(t, errors.As(err, new(*recipe.Error)))
}
