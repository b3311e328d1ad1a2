package safefile

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestModeSet(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Mode
		err  string
	}{
		{in: "0600", want: 0o600},
		{in: "600", want: 0o600},
		{in: "0o640", want: 0o640},
		{in: "0644", want: 0o644},
		{in: "0604", want: 0o604},
		{in: "", err: `want an octal mode such as 0600 or 0640`},
		{in: "0x1a", err: `want an octal mode such as 0600 or 0640`},
		{in: "0689", err: `want an octal mode such as 0600 or 0640`},
		{in: "0400", err: "want 0600, 0640 or 0644: vigil's user must read and write its files"},
		{in: "0200", err: "want 0600, 0640 or 0644: vigil's user must read and write its files"},
		{in: "0660", err: "want 0600, 0640 or 0644: the group and other users may only read, and no one execute"},
		{in: "0666", err: "want 0600, 0640 or 0644: the group and other users may only read, and no one execute"},
		{in: "0700", err: "want 0600, 0640 or 0644: the group and other users may only read, and no one execute"},
		{in: "4600", err: "want 0600, 0640 or 0644: the group and other users may only read, and no one execute"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var m Mode
			err := m.Set(tc.in)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				require.Equal(t, Mode(0), m, "left as it was")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, m)
		})
	}
}

func TestModeString(t *testing.T) {
	require.Equal(t, "0600", Mode(0).String(), "the zero Mode is the default")
	require.Equal(t, "0640", Mode(0o640).String())
	require.Equal(t, "MODE", Mode(0).Type())
}
