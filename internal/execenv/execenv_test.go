package execenv

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVars(t *testing.T) {
	names := Names()
	require.Len(t, slices.Compact(slices.Sorted(slices.Values(names))), len(names), "a name twice")
	uses := make(map[string]Use)
	for _, v := range Vars() {
		require.Contains(t, []Use{TraceContext, CIJob, Loader}, v.Use, v.Name)
		uses[v.Name] = v.Use
	}
	for _, name := range LoaderNames() {
		require.Equal(t, Loader, uses[name], name)
	}
	require.Equal(t, TraceContext, uses[TraceParent])
	require.Equal(t, CIJob, uses[CI])
}
