package literal

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSet(t *testing.T) {
	s := NewSet([]string{"stratum+tcp://", "nicehash.", "ab"}, false)
	require.True(t, s.Contains("x stratum+tcp://y"))
	require.True(t, s.Contains("xab"))
	require.False(t, s.Contains("a"))
	require.True(t, s.HasPrefix("abc"))
	require.False(t, s.HasPrefix("cab"))
	suffixes := NewSuffixSet([]string{".py", "/hammer.py", ".pl"})
	require.True(t, suffixes.HasSuffix("x/hammer.py"))
	require.True(t, suffixes.HasSuffix("a.pl"))
	require.False(t, suffixes.HasSuffix("a.pyc"))
	folded := NewSet([]string{"token", "secret"}, true)
	require.True(t, folded.Contains("GH_TOKEN"))
	require.True(t, folded.Contains("héllo"), "beyond ASCII, case folding may match: the regex decides")
	require.False(t, folded.Contains("hello"))
	require.Nil(t, NewSet(nil, false))
}
