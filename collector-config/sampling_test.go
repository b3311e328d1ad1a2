package collectorconfig_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/otelcoltest"
	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/semconv"
)

// TestSamplingGatewayKeepsEveryTraceWithADetection runs the sampling
// gateway (gateway-sampling.yaml) from the project's Collector build for
// real, the real vigil watching the machine with a span per traced exec and
// sending to it, and 40 CI jobs, each its own trace, every fourth of which
// runs zip (a detection). Every trace with a detection is kept, its
// detection records beside it, and the others at the configured rate, 50 %.
func TestSamplingGatewayKeepsEveryTraceWithADetection(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("vigil run loads eBPF programs, which needs root")
	}
	zip, err := exec.LookPath("zip")
	require.NoError(t, err, "the zip package is needed")
	collector := otelcoltest.Build(t)
	vigil := buildVigil(t)

	backend := otlptest.Start(t)
	gateway := "127.0.0.1:" + freePort(t)
	hostPort := strings.TrimPrefix(backend.Endpoint, "http://")
	gw := otelcoltest.Start(t, collector, []string{
		"VIGIL_GATEWAY_LISTEN=" + gateway,
		"VIGIL_HEALTH_CHECK_ENDPOINT=127.0.0.1:" + freePort(t),
		"VIGIL_SAMPLING_PERCENTAGE=50",
		"VIGIL_DECISION_WAIT=2s",
		"VIGIL_TRACES_ENDPOINT=" + hostPort,
		"VIGIL_ARCHIVE_ENDPOINT=" + hostPort,
		"VIGIL_METRICS_ENDPOINT=" + hostPort,
	}, "gateway-sampling.yaml")

	// vigil watches the machine, as on a CI runner, a span per traced exec.
	// Its pid file is there once it watches.
	pidFile := filepath.Join(t.TempDir(), "vigil.pid")
	v := exec.Command(vigil, "run", "--otlp-endpoint", "http://"+gateway, "--spans", "all", "--pid-file", pidFile)
	v.Env = withoutOTelEnv()
	var vigilLog bytes.Buffer
	v.Stdout, v.Stderr = &vigilLog, &vigilLog
	require.NoError(t, v.Start())
	t.Cleanup(func() { _ = v.Process.Kill(); _ = v.Wait() })
	require.Eventually(t, func() bool {
		_, err := os.Stat(pidFile)
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "vigil watches")

	// The jobs: each runs a step in its own trace context.
	work := t.TempDir()
	withDetection := map[string]bool{}
	for i := range 40 {
		var id [16]byte
		_, _ = rand.Read(id[:])
		traceID := hex.EncodeToString(id[:])
		step := "true"
		if i%4 == 0 {
			step = fmt.Sprintf("%s -q %s /etc/hostname", zip, filepath.Join(work, fmt.Sprintf("job%d.zip", i)))
		}
		withDetection[traceID] = i%4 == 0
		job := exec.Command("sh", "-c", step)
		job.Env = append(withoutOTelEnv(), "TRACEPARENT=00-"+traceID+"-00f067aa0ba902b7-01")
		require.NoError(t, job.Run())
	}

	// kept returns the jobs' traces the backend received spans of, and
	// those it received detection records of.
	kept := func() (spans, records map[string]bool) {
		spans, records = map[string]bool{}, map[string]bool{}
		for _, s := range backend.Spans() {
			if id := s.TraceID().String(); isJob(withDetection, id) {
				spans[id] = true
			}
		}
		for _, r := range backend.Records() {
			if id := r.TraceID().String(); isJob(withDetection, id) {
				records[id] = true
			}
		}
		return spans, records
	}
	// Every detection's trace arrives once the gateway has decided on it.
	if !assert.Eventually(t, func() bool {
		spans, _ := kept()
		for id, det := range withDetection {
			if det && !spans[id] {
				return false
			}
		}
		return true
	}, time.Minute, 500*time.Millisecond, "the traces with a detection are kept") {
		spans, _ := kept()
		t.Fatalf("%d spans received, %d of the jobs' traces; gateway log:\n%s", len(backend.Spans()), len(spans), gw.Log())
	}
	// The others' decisions come within the same wait; give them a margin.
	time.Sleep(5 * time.Second)
	require.NoError(t, v.Process.Signal(syscall.SIGTERM))
	require.NoError(t, v.Wait(), "vigil: %s", &vigilLog)

	spans, records := kept()
	others := 0
	for id, det := range withDetection {
		if det {
			require.True(t, records[id], "trace %s's detection record is archived", id)
			continue
		}
		if spans[id] {
			others++
		}
	}
	// 30 traces without a detection at 50 %: 15 expected; outside 4 to 26
	// once in more than 100,000 runs.
	require.GreaterOrEqual(t, others, 4, "traces without a detection kept at the configured rate")
	require.LessOrEqual(t, others, 26, "traces without a detection kept at the configured rate")

	// The kept detection traces hold the detection as a span event.
	var events int
	for _, s := range backend.Spans() {
		if withDetection[s.TraceID().String()] {
			for _, e := range s.Events().All() {
				if e.Name() == semconv.DetectionEventName {
					events++
				}
			}
		}
	}
	require.GreaterOrEqual(t, events, 10, "a vigil.detection event per zip")
}

// isJob says id is the trace of one of the test's jobs.
func isJob(jobs map[string]bool, id string) bool {
	_, ok := jobs[id]
	return ok
}
