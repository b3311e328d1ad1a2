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

// noSelfMetrics turns off a Collector's own metrics endpoint (localhost:8888
// by default), which three Collectors on one machine would all claim.
const noSelfMetrics = "yaml:service::telemetry::metrics::level: none"

// TestGatewayTierKeepsEachTraceWholeOnOneGateway runs the tier of
// gateway-ha.yaml from the project's Collector build for real: two gateways,
// each writing to a backend of its own, behind one agent (agent.yaml with
// agent-ha.yaml) that the real vigil sends to, a span per traced exec. 80 CI
// jobs run, each its own trace, every fourth of which runs zip (a
// detection). Each trace arrives whole at one gateway's backend, its
// detection records with it; both gateways get traces; every trace with a
// detection is kept, and the others at the configured rate, 50 %.
func TestGatewayTierKeepsEachTraceWholeOnOneGateway(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("vigil run loads eBPF programs, which needs root")
	}
	zip, err := exec.LookPath("zip")
	require.NoError(t, err, "the zip package is needed")
	collector := otelcoltest.Build(t)
	vigil := buildVigil(t)

	// Two gateways, each with its own backend: where a trace lands says
	// which gateway took it.
	var backends [2]*otlptest.Receiver
	var gatewayAddrs []string
	var gateways []*otelcoltest.Collector
	for i := range backends {
		backends[i] = otlptest.Start(t)
		hostPort := strings.TrimPrefix(backends[i].Endpoint, "http://")
		addr := "127.0.0.1:" + freePort(t)
		gatewayAddrs = append(gatewayAddrs, addr)
		gateways = append(gateways, otelcoltest.Start(t, collector, []string{
			"VIGIL_GATEWAY_LISTEN=" + addr,
			"VIGIL_HEALTH_CHECK_ENDPOINT=127.0.0.1:" + freePort(t),
			"VIGIL_SAMPLING_PERCENTAGE=50",
			"VIGIL_DECISION_WAIT=2s",
			"VIGIL_TRACES_ENDPOINT=" + hostPort,
			"VIGIL_ARCHIVE_ENDPOINT=" + hostPort,
			"VIGIL_METRICS_ENDPOINT=" + hostPort,
		}, "gateway-ha.yaml", noSelfMetrics))
	}
	agent := "127.0.0.1:" + freePort(t)
	agentCol := otelcoltest.Start(t, collector, []string{
		"VIGIL_AGENT_LISTEN=" + agent,
		"VIGIL_HEALTH_CHECK_ENDPOINT=127.0.0.1:" + freePort(t),
		"VIGIL_GATEWAYS=[" + strings.Join(gatewayAddrs, ", ") + "]",
		"VIGIL_AGENT_STORAGE_DIR=" + t.TempDir(),
	}, "agent.yaml", "agent-ha.yaml", noSelfMetrics)
	logs := func() string {
		return fmt.Sprintf("agent log:\n%s\ngateway 1 log:\n%s\ngateway 2 log:\n%s", agentCol.Log(), gateways[0].Log(), gateways[1].Log())
	}

	// vigil watches the machine, as on a CI runner, a span per traced exec.
	// Its pid file is there once it watches.
	pidFile := filepath.Join(t.TempDir(), "vigil.pid")
	v := exec.Command(vigil, "run", "--otlp-endpoint", "http://"+agent, "--spans", "all", "--pid-file", pidFile)
	v.Env = withoutOTelEnv()
	var vigilLog bytes.Buffer
	v.Stdout, v.Stderr = &vigilLog, &vigilLog
	require.NoError(t, v.Start())
	t.Cleanup(func() { _ = v.Process.Kill(); _ = v.Wait() })
	require.Eventually(t, func() bool {
		_, err := os.Stat(pidFile)
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "vigil watches")

	// The jobs: each runs a step of three execs (sh and two programs) in
	// its own trace context.
	work := t.TempDir()
	withDetection := map[string]bool{}
	for i := range 80 {
		var id [16]byte
		_, _ = rand.Read(id[:])
		traceID := hex.EncodeToString(id[:])
		step := "/bin/true; /bin/true"
		if i%4 == 0 {
			step = fmt.Sprintf("/bin/true; %s -q %s /etc/hostname", zip, filepath.Join(work, fmt.Sprintf("job%d.zip", i)))
		}
		withDetection[traceID] = i%4 == 0
		job := exec.Command("sh", "-c", step)
		job.Env = append(withoutOTelEnv(), "TRACEPARENT=00-"+traceID+"-00f067aa0ba902b7-01")
		require.NoError(t, job.Run())
	}

	// arrived returns, for each backend, how many spans of each of the
	// jobs' traces it received, and the traces it received detection
	// records of.
	arrived := func() (spans [2]map[string]int, records [2]map[string]bool) {
		for i, b := range backends {
			spans[i], records[i] = map[string]int{}, map[string]bool{}
			for _, s := range b.Spans() {
				if id := s.TraceID().String(); isJob(withDetection, id) {
					spans[i][id]++
				}
			}
			for _, r := range b.Records() {
				if id := r.TraceID().String(); isJob(withDetection, id) {
					records[i][id] = true
				}
			}
		}
		return spans, records
	}
	// Every detection's trace arrives once its gateway has decided on it.
	if !assert.Eventually(t, func() bool {
		spans, _ := arrived()
		for id, det := range withDetection {
			if det && spans[0][id]+spans[1][id] < 3 {
				return false
			}
		}
		return true
	}, time.Minute, 500*time.Millisecond, "the traces with a detection are kept") {
		t.Fatalf("%d and %d spans received\n%s", len(backends[0].Spans()), len(backends[1].Spans()), logs())
	}
	// The others' decisions come within the same wait; give them a margin.
	time.Sleep(5 * time.Second)
	require.NoError(t, v.Process.Signal(syscall.SIGTERM))
	require.NoError(t, v.Wait(), "vigil: %s", &vigilLog)

	spans, records := arrived()
	kept := [2]int{}
	others := 0
	for id, det := range withDetection {
		in0, in1 := spans[0][id] > 0, spans[1][id] > 0
		require.False(t, in0 && in1, "trace %s is split between the gateways: %d and %d spans", id, spans[0][id], spans[1][id])
		if in0 || in1 {
			require.Equal(t, 3, spans[0][id]+spans[1][id], "trace %s arrives whole: sh and its two programs", id)
		}
		if in0 {
			kept[0]++
		}
		if in1 {
			kept[1]++
		}
		if det {
			// The detection records follow their trace to its gateway.
			require.True(t, (in0 && records[0][id] && !records[1][id]) || (in1 && records[1][id] && !records[0][id]),
				"trace %s: spans at gateway 1 %v, 2 %v; records at 1 %v, 2 %v", id, in0, in1, records[0][id], records[1][id])
			continue
		}
		if in0 || in1 {
			others++
		}
	}
	t.Logf("gateway 1 kept %d traces, gateway 2 %d; %d of the 60 without a detection", kept[0], kept[1], others)
	// About 50 traces kept: all on one gateway once in 2^49 runs.
	require.Positive(t, kept[0], "gateway 1 takes traces\n%s", logs())
	require.Positive(t, kept[1], "gateway 2 takes traces\n%s", logs())
	// 60 traces without a detection at 50 %: 30 expected; outside 10 to 50
	// once in more than a million runs.
	require.GreaterOrEqual(t, others, 10, "traces without a detection kept at the configured rate")
	require.LessOrEqual(t, others, 50, "traces without a detection kept at the configured rate")

	// The kept detection traces hold the detection as a span event.
	var events int
	for _, b := range backends {
		for _, s := range b.Spans() {
			if withDetection[s.TraceID().String()] {
				for _, e := range s.Events().All() {
					if e.Name() == semconv.DetectionEventName {
						events++
					}
				}
			}
		}
	}
	require.GreaterOrEqual(t, events, 20, "a vigil.detection event per zip")
}

// isJob says id is the trace of one of the test's jobs.
func isJob(jobs map[string]bool, id string) bool {
	_, ok := jobs[id]
	return ok
}
