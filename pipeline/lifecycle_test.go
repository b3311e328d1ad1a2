package pipeline

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/internal/ringtest"
	"github.com/vigil-otel/vigil/sensor"
)

// lifecycleRing is the ring buffer size of these tests: one that no other
// test's sensor has, so that ringtest finds this one.
const lifecycleRing = 1 << 20

// started runs the real sensor over this test process's descendants,
// writing detections nowhere; the test stops it.
func started(t *testing.T) *Pipeline {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loading eBPF programs needs root")
	}
	p, err := Start(context.Background(), Config{
		Sensor:   sensor.Config{Follow: uint32(os.Getpid()), RingBufferSize: lifecycleRing, WakeupInterval: 50 * time.Millisecond},
		Recipes:  builtinRecipe(t, "exec_example"),
		Exporter: exporter.Config{JSONL: io.Discard, ServiceVersion: "test"},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = p.Stop(context.Background()) })
	return p
}

func TestStopTwice(t *testing.T) {
	p := started(t)
	require.NoError(t, p.Err(), "running")
	_, err := p.Stop(context.Background())
	require.NoError(t, err)
	select {
	case <-p.Done():
	default:
		t.Fatal("Done is open after Stop")
	}
	require.ErrorIs(t, p.Err(), ErrClosed)

	sum, err := p.Stop(context.Background())
	require.ErrorIs(t, err, ErrClosed, "a second Stop says it, and does not hang")
	require.Zero(t, sum)
}

// TestDeadReaderIsHeard breaks the ring buffer under a running pipeline:
// Done closes at once, Err and Stop say why.
func TestDeadReaderIsHeard(t *testing.T) {
	p := started(t)
	select {
	case <-p.Done():
		t.Fatal("Done closed before anything went wrong")
	default:
	}
	ringtest.Corrupt(t, os.Getpid(), lifecycleRing, p.Done())

	readErr := p.Err()
	require.ErrorContains(t, readErr, "the event reader stopped: read ring buffer: ring buffer positions are inconsistent")
	_, err := p.Stop(context.Background())
	require.ErrorIs(t, err, readErr)
	require.Equal(t, readErr, p.Err(), "still the reader's failure once stopped")
}
