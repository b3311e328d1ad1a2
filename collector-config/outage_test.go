package collectorconfig_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/vigil-otel/vigil/internal/otelcoltest"
	"github.com/vigil-otel/vigil/semconv"
)

// outageExecs is how many detected execs each test makes while the
// Collector is down.
const outageExecs = 100

// TestDetectionsSurviveACollectorOutage watches the machine with the real
// vigil while the Collector is down for a minute: every detection made
// meanwhile reaches the Collector once it is back, exactly once, and none
// is counted lost.
func TestDetectionsSurviveACollectorOutage(t *testing.T) {
	t.Parallel()
	o := newOutage(t)
	vigil := o.startVigil(t)
	o.detect(t)
	time.Sleep(outage)
	o.startCollector(t)
	o.waitDelivered(t)
	summary := vigil.stop(t)
	requireNothingUndelivered(t, summary)
}

// TestDetectionsSurviveAStopDuringAnOutage stops vigil (SIGTERM) while the
// Collector is down: what it could not deliver waits in its spool, and the
// next vigil sends it, exactly once, when the Collector is back.
func TestDetectionsSurviveAStopDuringAnOutage(t *testing.T) {
	t.Parallel()
	o := newOutage(t)
	first := o.startVigil(t)
	o.detect(t)
	summary := first.stop(t)
	requireNothingUndelivered(t, summary)
	require.Regexp(t, `kept on disk for the receiver [1-9][0-9]+`, summary, "the spool keeps them")
	time.Sleep(outage)
	second := o.startVigil(t)
	o.startCollector(t)
	o.waitDelivered(t)
	summary = second.stop(t)
	requireNothingUndelivered(t, summary)
}

// requireNothingUndelivered checks that a vigil watching the machine lost
// no detection nor span on the way to the Collector. Its other counts are
// the machine's: another test's exec flood may fill its ring buffer.
func requireNothingUndelivered(t *testing.T, summary string) {
	t.Helper()
	require.Contains(t, summary, "export failed 0,", summary)
	require.Contains(t, summary, "span export failed 0,", summary)
}

// outageRun is one test's vigil binary, Collector, spool and marker.
type outageRun struct {
	vigil, collector string
	listen, out      string
	stateDir         string
	// marker is in every watched command line, so that the test counts
	// its own detections, whatever else runs on the machine.
	marker string
}

func newOutage(t *testing.T) *outageRun {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("vigil run loads eBPF programs, which needs root")
	}
	return &outageRun{
		vigil:     buildVigil(t),
		collector: otelcoltest.Build(t),
		listen:    "127.0.0.1:" + freePort(t),
		out:       t.TempDir(),
		stateDir:  filepath.Join(t.TempDir(), "state"),
		marker:    fmt.Sprintf("outage-%d", time.Now().UnixNano()),
	}
}

// runningVigil is vigil watching the machine.
type runningVigil struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

// startVigil starts vigil watching the machine, exporting to the test's
// Collector with its spool in the test's state directory, and returns
// once it watches.
func (o *outageRun) startVigil(t *testing.T) *runningVigil {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "vigil.pid")
	cmd := exec.Command(o.vigil, "run", "--otlp-endpoint", "http://"+o.listen, "--state-dir", o.stateDir,
		"--spans", "none", "--pid-file", pidFile)
	cmd.Env = withoutOTelEnv()
	v := &runningVigil{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = v.stderr, v.stderr
	require.NoError(t, cmd.Start())
	go func() { v.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	require.Eventually(t, func() bool {
		_, err := os.Stat(pidFile)
		return err == nil
	}, time.Minute, 50*time.Millisecond, "vigil did not start watching:\n%s", v.stderr)
	return v
}

// stop stops vigil as a service manager would, and returns what it wrote,
// its summary included.
func (v *runningVigil) stop(t *testing.T) string {
	t.Helper()
	require.NoError(t, v.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-v.done:
		require.NoError(t, err, "vigil's exit:\n%s", v.stderr)
	case <-time.After(time.Minute):
		t.Fatalf("vigil did not stop within a minute of SIGTERM:\n%s", v.stderr)
	}
	return v.stderr.String()
}

// detect makes outageExecs detections, each a zip (exec_example) with its
// own archive name.
func (o *outageRun) detect(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	script := fmt.Sprintf(`for i in $(seq 1 %d); do zip -q %s/%s-$i.zip /etc/hostname; done`, outageExecs, dir, o.marker)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sh", "-c", script).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// startCollector starts the Collector, detections to a file.
func (o *outageRun) startCollector(t *testing.T) {
	t.Helper()
	otelcoltest.Start(t, o.collector, []string{"VIGIL_LOCAL_LISTEN=" + o.listen, "VIGIL_TEST_OUT_DIR=" + o.out},
		"local.yaml", "testdata/local-files.yaml")
}

// waitDelivered waits until the Collector has each of the test's
// detections, and checks it has each exactly once.
func (o *outageRun) waitDelivered(t *testing.T) {
	t.Helper()
	var seen map[string]int
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		seen = o.delivered(t)
		if len(seen) == outageExecs {
			break
		}
		time.Sleep(time.Second)
	}
	require.Len(t, seen, outageExecs, "every detection made during the outage arrives")
	time.Sleep(2 * time.Second) // a duplicate, if any, would come right after
	for archive, n := range o.delivered(t) {
		require.Equal(t, 1, n, "%s: delivered once", archive)
	}
}

// delivered counts the test's exec_example detections in the
// Collector's file, by archive.
func (o *outageRun) delivered(t *testing.T) map[string]int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(o.out, "logs.jsonl"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	seen := make(map[string]int)
	// The last line may be half written.
	lines := bytes.Split(data, []byte("\n"))
	for _, line := range lines[:len(lines)-1] {
		logs, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(line)
		require.NoError(t, err)
		for _, rl := range logs.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, r := range sl.LogRecords().All() {
					if ruleName(r) != "exec_example" {
						continue
					}
					args, ok := r.Attributes().Get(string(semconv.ProcessCommandArgsKey))
					if !ok || !strings.Contains(args.AsString(), o.marker) {
						continue
					}
					seen[args.AsString()]++
				}
			}
		}
	}
	return seen
}
