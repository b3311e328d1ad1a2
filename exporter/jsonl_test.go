package exporter

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

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

// lockedBuffer is a buffer the flushing timer and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestJSONLinesWaitNoLongerThanTheirDelay: a line is buffered, then
// written by itself within flushDelay, with no other line after it and no
// flush asked.
func TestJSONLinesWaitNoLongerThanTheirDelay(t *testing.T) {
	var out lockedBuffer
	exp, err := New(context.Background(), Config{JSONL: &out})
	require.NoError(t, err)
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	require.NoError(t, exp.Emit(context.Background(), sampleRecord("zip")))
	require.Eventually(t, func() bool { return strings.Count(out.String(), "\n") == 1 }, 10*flushDelay, 10*time.Millisecond)
}
