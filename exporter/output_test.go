package exporter

import (
	"context"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// stalled is an output that takes nothing: a pipe nobody reads.
type stalled struct{ release chan struct{} }

func (s stalled) Write(p []byte) (int, error) {
	<-s.release
	return len(p), nil
}

// TestStalledOutputHoldsNothingUp: with the JSON lines output stuck in a
// write, detections go on to the others at once, those the stuck one
// cannot take are counted as its losses while vigil runs, and Shutdown
// gives it up when its context ends, without spending the others' time.
func TestStalledOutputHoldsNothingUp(t *testing.T) {
	out := stalled{release: make(chan struct{})}
	defer close(out.release)
	var report lockedBuffer
	exp, err := New(context.Background(), Config{JSONL: out, Report: &report})
	require.NoError(t, err)
	const n = outputBuffer + 1000
	for range n {
		require.NoError(t, exp.Emit(context.Background(), sampleRecord("zip")))
	}
	st := exp.Stats()
	require.Equal(t, uint64(n), st.Emitted)
	// The output took a batch (at most 512) before it got stuck.
	require.GreaterOrEqual(t, st.JSONLLost, uint64(n-outputBuffer-512), "what did not fit is counted at once")
	require.Less(t, st.JSONLLost, uint64(n))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	require.ErrorIs(t, exp.Shutdown(ctx), context.DeadlineExceeded)
	st = exp.Stats()
	require.Equal(t, uint64(n), st.JSONLLost, "every detection the stuck output never wrote is lost")
	require.Zero(t, st.ReportLost)
	require.Len(t, splitLines(report.String()), n, "the report got every one")
}

// brokenPipe is an output whose reader is gone.
type brokenPipe struct {
	mu     sync.Mutex
	writes int
}

func (b *brokenPipe) Write([]byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return 0, syscall.EPIPE
}

// TestBrokenOutputIsCounted: an output that fails loses what it is given,
// counted, and the others go on.
func TestBrokenOutputIsCounted(t *testing.T) {
	var out brokenPipe
	var report lockedBuffer
	exp, err := New(context.Background(), Config{JSONL: &out, Report: &report})
	require.NoError(t, err)
	for range 100 {
		require.NoError(t, exp.Emit(context.Background(), sampleRecord("zip")))
	}
	require.NoError(t, exp.Shutdown(context.Background()))
	st := exp.Stats()
	require.Equal(t, uint64(100), st.JSONLLost)
	require.Zero(t, st.ReportLost)
	require.Len(t, splitLines(report.String()), 100)
}

func splitLines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }
