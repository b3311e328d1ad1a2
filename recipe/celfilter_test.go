package recipe

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestArgsNeedsOfCEL(t *testing.T) {
	scope, err := newCELScope()
	require.NoError(t, err)
	for expr, want := range map[string][][]string{
		`args.exists(a, a.matches("^--pass(word)?="))`:                   {{"--pass=", "--password="}},
		`args.exists(a, a.startsWith("LD_")) || "-x" in args`:            {{"-x", "LD_"}},
		`[1, 2].exists(i, i < args.size() && args[i] == "eval") && true`: {{"eval"}},
		`name == "x" || args.exists(a, a == "y")`:                        nil,
		`args.all(a, a == "y")`:                                          nil,
		`[1].exists(args, args == 1) && cwd == "/"`:                      nil,
	} {
		ast, iss := scope.env.Compile(expr)
		require.NoError(t, iss.Err(), expr)
		var got [][]string
		for _, n := range celNeeds(ast.NativeRep().Expr(), map[string]bool{}) {
			got = append(got, slices.Sorted(slices.Values(n.Lits)))
		}
		require.Equal(t, want, got, expr)
	}
}
