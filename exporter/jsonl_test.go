package exporter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/semconv"
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

// lockedBuffer is a buffer the output's goroutine and the test share.
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

// TestJSONLinesDoNotWait: a line is written as soon as nothing else
// waits, with no flush asked.
func TestJSONLinesDoNotWait(t *testing.T) {
	var out lockedBuffer
	exp, err := New(context.Background(), Config{JSONL: &out})
	require.NoError(t, err)
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	require.NoError(t, exp.Emit(context.Background(), sampleRecord("zip")))
	require.Eventually(t, func() bool { return strings.Count(out.String(), "\n") == 1 }, 10*time.Second, 10*time.Millisecond)
}

// writes records each Write it is given, and fails those it is told to.
type writes struct {
	calls [][]byte
	fail  int
}

func (w *writes) Write(p []byte) (int, error) {
	if w.fail > 0 {
		w.fail--
		return 0, errors.New("disk full")
	}
	w.calls = append(w.calls, bytes.Clone(p))
	return len(p), nil
}

// TestJSONLinesGoOutWhole: however the buffer fills, each write holds
// whole lines, a line larger than the buffer included, so that nothing
// else written to the file can land inside one.
func TestJSONLinesGoOutWhole(t *testing.T) {
	var w writes
	exp, err := New(context.Background(), Config{JSONL: &w})
	require.NoError(t, err)
	for i := range 300 {
		d := sampleRecord("zip", strings.Repeat("x", i*7))
		if i == 150 {
			d = sampleRecord("zip", strings.Repeat("y", 100<<10))
		}
		require.NoError(t, exp.Emit(context.Background(), d))
	}
	require.NoError(t, exp.Shutdown(context.Background()))
	require.Greater(t, len(w.calls), 2)
	lines := 0
	for _, c := range w.calls {
		require.True(t, bytes.HasPrefix(c, []byte(`{"time":`)) && bytes.HasSuffix(c, []byte("}\n")), "a write of whole lines")
		lines += bytes.Count(c, []byte("\n"))
	}
	require.Equal(t, 300, lines)
}

// TestJSONLinesAfterAFailedWrite: the lines a failed write held are lost
// and said so; the next ones are written.
func TestJSONLinesAfterAFailedWrite(t *testing.T) {
	w := writes{fail: 1}
	e := newJSONL(&w)
	rec := func(args ...string) []record { return []record{{Record: sampleRecord(args...)}} }
	require.ErrorContains(t, e.write(rec("lost")), "disk full")
	require.NoError(t, e.write(rec("kept")))
	require.Len(t, w.calls, 1)
	require.Contains(t, string(w.calls[0]), `"`+string(semconv.ProcessCommandArgsKey)+`":["kept"]`)
}
