package pipeline

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/sensor"
)

// started runs the real sensor over this test process's descendants,
// writing detections nowhere; the test stops it.
func started(t *testing.T) *Pipeline {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loading eBPF programs needs root")
	}
	p, err := Start(context.Background(), Config{
		Sensor:   sensor.Config{Follow: uint32(os.Getpid()), WakeupInterval: 50 * time.Millisecond},
		Recipes:  builtinRecipe(t, "exec_example"),
		Exporter: exporter.Config{JSONL: io.Discard, ServiceVersion: "test"},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = p.Stop(context.Background()) })
	return p
}

func TestStopTwice(t *testing.T) {
	p := started(t)
	_, err := p.Stop(context.Background())
	require.NoError(t, err)

	sum, err := p.Stop(context.Background())
	require.ErrorIs(t, err, ErrClosed, "a second Stop says it, and does not hang")
	require.Zero(t, sum)
}
