package exporter

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJSONStringsAsEncodingJSON: every string, hostile ones included,
// reads back as itself (invalid UTF-8 as U+FFFD), and is written as
// encoding/json writes it without HTML escaping.
func TestJSONStringsAsEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `say "hi" \ back`, "\x00\x01\x1b[2J\n\r\t\x7f", "é ✓ \u2028\u2029", "bad\xffutf8\xc3", "<a&b>",
	} {
		got := appendJSONString(nil, s)
		var back string
		require.NoError(t, json.Unmarshal(got, &back), "%q", got)
		want, err := json.Marshal(s)
		require.NoError(t, err)
		var wantBack string
		require.NoError(t, json.Unmarshal(want, &wantBack))
		require.Equal(t, wantBack, back, "%q", s)
	}
}
