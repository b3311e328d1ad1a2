package collectorconfig_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/vigil-otel/vigil/internal/otelcoltest"
	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/semconv"
)

// outage is how long the gateway is away in the agent tests: longer than
// any single export's timeout, so only a queue rides it out.
const outage = 60 * time.Second

// TestAgentKeepsDetectionsThroughAGatewayOutage runs agent.yaml in front of
// gateway.yaml, both from the project's Collector build, the gateway's
// backends an OTLP receiver. The real vigil sends detections (a zip each) to
// the agent while the gateway is away for a minute; once the gateway is back,
// every detection and every exec span arrives exactly once. The same when
// the agent is stopped (SIGTERM) and started again during the outage, and
// when it is killed (SIGKILL) and started again.
func TestAgentKeepsDetectionsThroughAGatewayOutage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("vigil run loads eBPF programs, which needs root")
	}
	zip, err := exec.LookPath("zip")
	require.NoError(t, err, "the zip package is needed")
	collector := otelcoltest.Build(t)
	vigil := buildVigil(t)
	// One backend for every case, started before they run in parallel (it
	// clears the OTEL_* environment); each counts its own zips only.
	backend := otlptest.Start(t)

	for _, tc := range []struct {
		name string
		// interrupt, when set, ends the agent in the middle of the outage,
		// after it has taken a first lot of detections.
		interrupt func(*otelcoltest.Collector) error
	}{
		{name: "gateway away"},
		{name: "agent stopped and restarted", interrupt: (*otelcoltest.Collector).Stop},
		{name: "agent killed and restarted", interrupt: (*otelcoltest.Collector).Kill},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // the outage is mostly waiting
			r := &relay{collector: collector, backend: backend, storage: t.TempDir(),
				gatewayAddr: "127.0.0.1:" + freePort(t), agentAddr: "127.0.0.1:" + freePort(t)}
			r.startGateway(t)
			r.startAgent(t)
			work := t.TempDir()
			run := func(phase string, n int) []string {
				return runZips(t, vigil, zip, "http://"+r.agentAddr, work, phase, n)
			}

			// The path works before the outage.
			want := run("before", 1)
			r.waitFor(t, work, want, time.Minute)

			require.NoError(t, r.gateway.Stop(), "%s", r.gateway.Log())
			down := time.Now()
			want = append(want, run("away", 100)...)
			if tc.interrupt != nil {
				require.NoError(t, tc.interrupt(r.agent), "%s", r.agent.Log())
				r.startAgent(t)
				want = append(want, run("away-after-restart", 100)...)
			}
			time.Sleep(time.Until(down.Add(outage)))

			r.startGateway(t)
			back := time.Now()
			r.waitFor(t, work, want, 4*time.Minute)
			t.Logf("%d detections and their spans delivered %s after the gateway's return", len(want), time.Since(back).Round(time.Second))

			// Stopping the agent, then the gateway, sends on whatever
			// either still holds: a duplicate would show now.
			require.NoError(t, r.agent.Stop(), "%s", r.agent.Log())
			require.NoError(t, r.gateway.Stop(), "%s", r.gateway.Log())
			records, spans := r.arrived(work)
			for _, archive := range want {
				assert.Equal(t, 1, records[archive], "the detection of zip %s", archive)
				assert.Equal(t, 1, spans[archive], "the exec span of zip %s", archive)
			}
			require.Len(t, records, len(want), "no other detection of this test's zips")
		})
	}
}

// relay is an agent (agent.yaml, its queue in storage) forwarding to a
// gateway (gateway.yaml) whose backends are all one receiver. Either can be
// stopped and started again at the same address.
type relay struct {
	collector              string
	backend                *otlptest.Receiver
	storage                string
	gatewayAddr, agentAddr string
	gateway, agent         *otelcoltest.Collector
}

func (r *relay) startGateway(t *testing.T) {
	t.Helper()
	backend := strings.TrimPrefix(r.backend.Endpoint, "http://")
	r.gateway = otelcoltest.Start(t, r.collector, []string{
		"VIGIL_GATEWAY_LISTEN=" + r.gatewayAddr,
		"VIGIL_HEALTH_CHECK_ENDPOINT=127.0.0.1:" + freePort(t),
		"VIGIL_ALERTS_ENDPOINT=" + backend,
		"VIGIL_ARCHIVE_ENDPOINT=" + backend,
		"VIGIL_TRACES_ENDPOINT=" + backend,
		"VIGIL_METRICS_ENDPOINT=" + backend,
	}, "gateway.yaml", noSelfMetrics)
}

func (r *relay) startAgent(t *testing.T) {
	t.Helper()
	r.agent = otelcoltest.Start(t, r.collector, []string{
		"VIGIL_AGENT_LISTEN=" + r.agentAddr,
		"VIGIL_HEALTH_CHECK_ENDPOINT=127.0.0.1:" + freePort(t),
		"VIGIL_GATEWAY_ENDPOINT=" + r.gatewayAddr,
		"VIGIL_AGENT_STORAGE_DIR=" + r.storage,
	}, "agent.yaml", noSelfMetrics)
}

// arrived counts, by archive path, the exec_example detections and the zip
// exec spans of the zips made in work that the backend has received.
func (r *relay) arrived(work string) (records, spans map[string]int) {
	records, spans = map[string]int{}, map[string]int{}
	for _, rec := range r.backend.Records() {
		if rule, _ := rec.Attributes().Get(string(semconv.SecurityRuleNameKey)); rule.AsString() != lowRecipe {
			continue
		}
		if archive := zipArchive(rec.Attributes(), work); archive != "" {
			records[archive]++
		}
	}
	for _, s := range r.backend.Spans() {
		if archive := zipArchive(s.Attributes(), work); archive != "" && s.Name() == semconv.ExecSpanPrefix+"zip" {
			spans[archive]++
		}
	}
	return records, spans
}

// waitFor waits until the detection and the exec span of each of the
// archives have arrived.
func (r *relay) waitFor(t *testing.T, work string, archives []string, timeout time.Duration) {
	t.Helper()
	var noRecord, noSpan int
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		records, spans := r.arrived(work)
		noRecord, noSpan = 0, 0
		for _, a := range archives {
			if records[a] == 0 {
				noRecord++
			}
			if spans[a] == 0 {
				noSpan++
			}
		}
		if noRecord == 0 && noSpan == 0 {
			return
		}
	}
	t.Fatalf("of %d zips, %d detections and %d spans missing after %s\nagent log:\n%s\ngateway log:\n%s",
		len(archives), noRecord, noSpan, timeout, r.agent.Log(), r.gateway.Log())
}

// zipArchive returns the archive that a zip command line in attrs writes,
// when it is in work, or "".
func zipArchive(attrs pcommon.Map, work string) string {
	args, ok := attrs.Get(string(semconv.ProcessCommandArgsKey))
	if !ok || args.Type() != pcommon.ValueTypeSlice {
		return ""
	}
	for _, a := range args.Slice().All() {
		if s := a.AsString(); strings.HasPrefix(s, work+string(filepath.Separator)) && strings.HasSuffix(s, ".zip") {
			return s
		}
	}
	return ""
}

// runZips runs vigil run, exporting to endpoint, over a shell that zips n
// archives named for phase in work, each an exec_example detection; vigil
// must report them all and no loss. It returns the archives' paths.
func runZips(t *testing.T, vigil, zip, endpoint, work, phase string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script := fmt.Sprintf(`for i in $(seq 1 %d); do %s -q %s/%s-$i.zip /etc/hostname || exit 1; done`, n, zip, work, phase)
	cmd := exec.CommandContext(ctx, vigil, "run", "--otlp-endpoint", endpoint, "--", "sh", "-c", script)
	cmd.Env = withoutOTelEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "vigil run:\n%s", out.String())
	require.Contains(t, out.String(), fmt.Sprintf("detections %d,", n), "vigil:\n%s", out.String())
	require.Contains(t, out.String(), "lost 0 ", "the agent took everything:\n%s", out.String())
	archives := make([]string, n)
	for i := range archives {
		archives[i] = filepath.Join(work, fmt.Sprintf("%s-%d.zip", phase, i+1))
	}
	return archives
}
