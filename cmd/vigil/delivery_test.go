package main

import (
	"bytes"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCollectorDownLeavesTheCommandsStatus: a monitor must never fail the
// job it watches because its telemetry backend is unwell. With nothing
// listening at the endpoint, the command's exit status stands and the
// summary counts what was not delivered.
func TestCollectorDownLeavesTheCommandsStatus(t *testing.T) {
	vigil := buildVigil(t)
	// A port that was free a moment ago: connections to it are refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	endpoint := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1000")

	for _, status := range []int{0, 3} {
		archive := filepath.Join(t.TempDir(), "x.zip")
		var stderr bytes.Buffer
		cmd := exec.Command(vigil, "run", "--otlp-endpoint", endpoint, "--", "sh", "-c", "zip -q "+archive+" /etc/hostname; exit "+strconv.Itoa(status))
		cmd.Stderr = &stderr
		err := cmd.Run()
		require.Equal(t, status, exitStatus(t, err), "stderr: %s", stderr.String())
		require.Contains(t, stderr.String(), "detections 1,")
		require.Contains(t, stderr.String(), "export failed 1,", "the undelivered detection is counted")
		require.Contains(t, stderr.String(), "telemetry not delivered at the end")
		require.NotContains(t, stderr.String(), "vigil: stop pipeline")
	}
}
