package collectorconfig_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/otelcoltest"
	"github.com/vigil-otel/vigil/semconv"
)

// TestLocalTakesEverySignalVigilSends runs the real vigil against the
// built Collector with local.yaml, the pairing its header suggests: every
// signal vigil exports has a pipeline, so nothing is refused or lost and
// the detection is printed.
func TestLocalTakesEverySignalVigilSends(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("vigil run loads eBPF programs, which needs root")
	}
	collector := otelcoltest.Build(t)
	vigil := buildVigil(t)
	listen := "127.0.0.1:" + freePort(t)
	col := otelcoltest.Start(t, collector, []string{"VIGIL_LOCAL_LISTEN=" + listen}, "local.yaml")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	archive := filepath.Join(t.TempDir(), "x.zip")
	cmd := exec.CommandContext(ctx, vigil, "run", "--otlp-endpoint", "http://"+listen, "--", "sh", "-c", "zip -q "+archive+" /etc/hostname")
	cmd.Env = withoutOTelEnv()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	require.NoError(t, cmd.Run(), "vigil run:\n%s", stderr.String())
	require.NoError(t, col.Stop(), "%s", col.Log())

	require.Contains(t, stderr.String(), "detections 1,")
	require.Contains(t, stderr.String(), "lost 0 ", "nothing refused:\n%s", stderr.String())
	require.NotContains(t, stderr.String(), "not delivered")
	require.Contains(t, col.Log(), semconv.DetectionEventName, "the detection printed")
	require.Contains(t, col.Log(), "exec_example")
}
