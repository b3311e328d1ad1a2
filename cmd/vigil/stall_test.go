package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
)

// stormExecs is how many detected execs the storm makes: more than an
// output's buffer holds.
const stormExecs = 10000

// stormRecipe fires on every exec of true.
const stormRecipe = `recipes:
  - name: storm_true
    version: 1
    description: Every true
    tactic: {id: TA0002, name: Execution}
    technique: {id: T1059, name: Command and Scripting Interpreter}
    importance: low
    match:
      executable:
        name: true
    documentation:
      summary: Fires on every exec of true, for the stalled-output test.
`

// hungReceiver accepts gRPC calls and never answers them: a Collector
// that is stuck.
func hungReceiver(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		<-stream.Context().Done()
		return stream.Context().Err()
	}))
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return "http://" + l.Addr().String()
}

// TestStalledOutputsDuringAStorm watches a storm of detected execs with
// its JSON lines going to a pipe nobody reads and its OTLP to a receiver
// that never answers: vigil keeps reading the kernel's events (no ring
// buffer loss), counts what the stuck outputs drop while it runs, stops
// within its stop timeout, and exits with the command's own status.
func TestStalledOutputsDuringAStorm(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("vigil run loads eBPF programs, which needs root")
	}
	vigil := buildVigil(t)
	recipes := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(recipes, "storm.yaml"), []byte(stormRecipe), 0o644))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	health := l.Addr().String()
	require.NoError(t, l.Close())

	// Nobody reads the pipe until vigil has ended: it fills at once.
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	// /bin/true, not the shell's builtin.
	storm := fmt.Sprintf(`i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done; exit 7`, stormExecs)
	cmd := exec.Command(vigil, "run", "--jsonl", "-", "--otlp-endpoint", hungReceiver(t), "--recipes", recipes,
		"--health-addr", health, "--stop-timeout", "3s", "--spans", "none", "--", "sh", "-c", storm)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "OTEL_") || strings.HasPrefix(kv, "TRACEPARENT=")
	})
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = pw, &stderr
	require.NoError(t, cmd.Start())
	require.NoError(t, pw.Close())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	// While the storm runs, the JSON lines' losses are in the metrics.
	lostLive := regexp.MustCompile(`(?m)^vigil_lost_total\{[^}]*vigil_loss_stage="output"[^}]*\} ([0-9]+)`)
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + health + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		m := lostLive.FindSubmatch(body)
		return m != nil && string(m[1]) != "0"
	}, 2*time.Minute, 100*time.Millisecond, "the stalled output's losses, live; stderr: %s", &stderr)

	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatalf("vigil did not end:\n%s", &stderr)
	}
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "stderr: %s", &stderr)
	require.Equal(t, 7, ee.ExitCode(), "the command's status, whatever the outputs did: %s", &stderr)

	written, err := io.ReadAll(pr)
	require.NoError(t, err)
	lines := bytes.Count(written, []byte("\n"))
	summary := stderr.String()
	require.Contains(t, summary, "ring buffer full 0,", "the reader kept up")
	dropped := regexp.MustCompile(`JSON lines dropped ([0-9]+)`).FindStringSubmatch(summary)
	require.NotNil(t, dropped, summary)
	n, err := strconv.Atoi(dropped[1])
	require.NoError(t, err)
	require.Greater(t, n, 0)
	require.Regexp(t, `by recipe: .*storm_true `+strconv.Itoa(stormExecs), summary)
	detections := regexp.MustCompile(`vigil: events [0-9]+, detections ([0-9]+),`).FindStringSubmatch(summary)
	require.NotNil(t, detections, summary)
	d, err := strconv.Atoi(detections[1])
	require.NoError(t, err)
	// Nothing is lost silently: each detection reached the pipe or is
	// counted dropped. The lines of the write that never returned are
	// counted dropped, though some of its bytes reached the pipe.
	require.GreaterOrEqual(t, lines+n, d, "each detection is written or counted dropped: %s", summary)
	require.LessOrEqual(t, n, d)
}
