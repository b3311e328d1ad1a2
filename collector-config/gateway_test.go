package collectorconfig_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/vigil-otel/vigil/internal/otelcoltest"
	"github.com/vigil-otel/vigil/internal/vigiltest"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/semconv"
)

// The recipes the end-to-end test triggers: a low one, which the gateway
// archives only, and a critical one, which it also sends to the alerts.
const (
	lowRecipe      = "exec_example"       // zip
	criticalRecipe = "net_scan_tool_exec" // nmap
)

// TestGatewayRoutesVigilsOutput runs the real vigil, eBPF sensor included,
// under a CI job's trace context, exporting to the built Collector running
// gateway.yaml, whose backends testdata/gateway-files.yaml replaces by
// files. The low detection lands in the archive only, the critical one in
// the alerts and the archive, both with their attributes; the traces hold
// the critical detection as an event of the nmap exec's span in the job's
// trace, and the metrics vigil's exec counter.
func TestGatewayRoutesVigilsOutput(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("vigil run loads eBPF programs, which needs root")
	}
	zip, err := exec.LookPath("zip")
	require.NoError(t, err, "the zip package is needed")
	collector := otelcoltest.Build(t)
	vigil := buildVigil(t)
	recipes := builtinRecipes(t, lowRecipe, criticalRecipe)

	out := t.TempDir()
	listen := "127.0.0.1:" + freePort(t)
	col := otelcoltest.Start(t, collector, []string{
		"VIGIL_TEST_OUT_DIR=" + out,
		"VIGIL_GATEWAY_LISTEN=" + listen,
		"VIGIL_HEALTH_CHECK_ENDPOINT=127.0.0.1:" + freePort(t),
	}, "gateway.yaml", filepath.Join("testdata", "gateway-files.yaml"))

	// The scanner is /bin/true named nmap: it scans nothing. Its target is
	// a documentation range (RFC 5737), as a real scan's would be an
	// address the runner can reach.
	work := t.TempDir()
	nmap := filepath.Join(work, "nmap")
	trueBin, err := os.ReadFile("/bin/true")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(nmap, trueBin, 0o755))
	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		jobSpan = "00f067aa0ba902b7"
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, vigil, "run", "--otlp-endpoint", "http://"+listen, "--",
		"sh", "-c", zip+" -q "+filepath.Join(work, "x.zip")+" /etc/hostname && "+nmap+" -sV -p- 192.0.2.0/24")
	cmd.Env = append(withoutOTelEnv(), "TRACEPARENT=00-"+traceID+"-"+jobSpan+"-01")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	require.NoError(t, cmd.Run(), "vigil run:\n%s", stderr.String())
	require.FileExists(t, filepath.Join(work, "x.zip"), "the command really ran")

	// vigil flushed before it exited; stopping the gateway flushes its
	// batch processor and the file exporters.
	require.NoError(t, col.Stop(), "%s", col.Log())
	failure := func() string { return "vigil:\n" + stderr.String() + "\nCollector:\n" + col.Log() }

	alerts := readLogs(t, filepath.Join(out, "alerts.jsonl"))
	archive := readLogs(t, filepath.Join(out, "archive.jsonl"))

	t.Logf("alerts: %v; archive: %v", ruleNames(alerts), ruleNames(archive))
	for _, rec := range alerts {
		require.GreaterOrEqual(t, rec.SeverityNumber(), plog.SeverityNumberError,
			"the alerts hold critical and high detections only: %s", ruleName(rec))
	}
	require.Empty(t, byRule(alerts, lowRecipe), "the low detection is not an alert")
	critical := byRule(alerts, criticalRecipe)
	require.Len(t, critical, 1, "the critical detection is an alert\n%s", failure())
	checkDetection(t, critical[0], recipes[criticalRecipe], nmap, traceID)

	archived := byRule(archive, criticalRecipe)
	require.Len(t, archived, 1, "the archive holds the critical detection\n%s", failure())
	checkDetection(t, archived[0], recipes[criticalRecipe], nmap, traceID)
	low := byRule(archive, lowRecipe)
	require.Len(t, low, 1, "the archive holds the low detection\n%s", failure())
	checkDetection(t, low[0], recipes[lowRecipe], zip, traceID)
	for _, rec := range archive {
		require.Equal(t, semconv.DetectionEventName, rec.EventName(), "the archive holds detections only")
	}
	require.GreaterOrEqual(t, len(archive), len(alerts), "every alert is archived too")

	// The critical detection is an event of the nmap exec's span, which
	// runs in the job's trace.
	spans := readSpans(t, filepath.Join(out, "traces.jsonl"))
	i := slices.IndexFunc(spans, func(s ptrace.Span) bool { return s.Name() == semconv.ExecSpanPrefix+"nmap" })
	require.GreaterOrEqual(t, i, 0, "no span %q\n%s", semconv.ExecSpanPrefix+"nmap", failure())
	span := spans[i]
	require.Equal(t, traceID, span.TraceID().String())
	require.Equal(t, critical[0].SpanID(), span.SpanID(), "the detection's record points at the span")
	// Other recipes may fire on the same exec (a program run from /tmp):
	// each detection is one event.
	var events []ptrace.SpanEvent
	for _, ev := range span.Events().All() {
		rule, _ := ev.Attributes().Get(string(semconv.SecurityRuleNameKey))
		if ev.Name() == semconv.DetectionEventName && rule.AsString() == criticalRecipe {
			events = append(events, ev)
		}
	}
	require.Len(t, events, 1, "the span carries the detection as an event")
	require.Equal(t, critical[0].Attributes().AsRaw(), events[0].Attributes().AsRaw(),
		"the span event has the record's attributes")
	for _, s := range spans {
		require.Equal(t, traceID, s.TraceID().String(), "every span is in the job's trace: %s", s.Name())
	}

	metrics := readMetricNames(t, filepath.Join(out, "metrics.jsonl"))
	require.Contains(t, metrics, semconv.MetricExecs, "vigil's self-metrics pass the gateway's filter\n%s", failure())
}

// checkDetection checks what the backends get of a detection: its event
// name, the severity of its recipe's importance, the recipe's rule and
// ATT&CK attributes, the process, and the job's trace.
func checkDetection(t *testing.T, rec plog.LogRecord, r *recipe.Recipe, exe, traceID string) {
	t.Helper()
	require.Equal(t, semconv.DetectionEventName, rec.EventName())
	wantSeverity := map[recipe.Importance]plog.SeverityNumber{
		recipe.Low: plog.SeverityNumberInfo, recipe.Medium: plog.SeverityNumberWarn,
		recipe.High: plog.SeverityNumberError, recipe.Critical: plog.SeverityNumberFatal,
	}[r.Importance]
	require.Equal(t, wantSeverity, rec.SeverityNumber(), "severity of a %s recipe", r.Importance)
	require.Equal(t, strings.ToUpper(wantSeverity.String()), rec.SeverityText())
	attrs := rec.Attributes()
	for key, want := range map[string]string{
		string(semconv.SecurityRuleNameKey):      r.Name,
		string(semconv.ThreatTacticIDKey):        r.Tactic.ID,
		string(semconv.ProcessExecutablePathKey): exe,
		string(semconv.ProcessExecutableNameKey): filepath.Base(exe),
	} {
		v, ok := attrs.Get(key)
		require.True(t, ok, "%s: no attribute %s in %v", r.Name, key, attrs.AsRaw())
		require.Equal(t, want, v.AsString(), "%s: %s", r.Name, key)
	}
	techniques, ok := attrs.Get(string(semconv.ThreatTechniqueIDKey))
	require.True(t, ok, "%s: no techniques", r.Name)
	require.Equal(t, []any{r.Techniques[0].ID}, techniques.Slice().AsRaw(), "%s: techniques", r.Name)
	args, ok := attrs.Get(string(semconv.ProcessCommandArgsKey))
	require.True(t, ok, "%s: no command line", r.Name)
	require.Equal(t, pcommon.ValueTypeSlice, args.Type())
	require.Equal(t, filepath.Base(exe), filepath.Base(args.Slice().At(0).AsString()))
	require.Equal(t, traceID, rec.TraceID().String(), "%s: in the job's trace", r.Name)
	require.False(t, rec.SpanID().IsEmpty(), "%s: under its exec's span", r.Name)
}

// builtinRecipes returns the named recipes of the built-in catalog.
func builtinRecipes(t *testing.T, names ...string) map[string]*recipe.Recipe {
	t.Helper()
	all, errs := recipe.Builtin()
	require.Empty(t, errs)
	found := map[string]*recipe.Recipe{}
	for _, r := range all {
		if slices.Contains(names, r.Name) {
			found[r.Name] = r
		}
	}
	require.Len(t, found, len(names), "built-in recipes %v", names)
	return found
}

func ruleName(rec plog.LogRecord) string {
	v, _ := rec.Attributes().Get(string(semconv.SecurityRuleNameKey))
	return v.AsString()
}

func ruleNames(recs []plog.LogRecord) []string {
	names := make([]string, 0, len(recs))
	for _, r := range recs {
		names = append(names, ruleName(r))
	}
	return names
}

func byRule(recs []plog.LogRecord, name string) []plog.LogRecord {
	var out []plog.LogRecord
	for _, r := range recs {
		if ruleName(r) == name {
			out = append(out, r)
		}
	}
	return out
}

// jsonLines calls parse on each line of a file exporter's output: one
// OTLP/JSON export request a line.
func jsonLines(t *testing.T, path string, parse func([]byte) error) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		require.NoError(t, parse(sc.Bytes()), "%s: %.200s", path, sc.Text())
	}
	require.NoError(t, sc.Err())
}

func readLogs(t *testing.T, path string) []plog.LogRecord {
	t.Helper()
	var out []plog.LogRecord
	jsonLines(t, path, func(line []byte) error {
		logs, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(line)
		for _, rl := range logs.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, r := range sl.LogRecords().All() {
					out = append(out, r)
				}
			}
		}
		return err
	})
	return out
}

func readSpans(t *testing.T, path string) []ptrace.Span {
	t.Helper()
	var out []ptrace.Span
	jsonLines(t, path, func(line []byte) error {
		traces, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
		for _, rs := range traces.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, s := range ss.Spans().All() {
					out = append(out, s)
				}
			}
		}
		return err
	})
	return out
}

func readMetricNames(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	jsonLines(t, path, func(line []byte) error {
		metrics, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(line)
		for _, rm := range metrics.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					out = append(out, m.Name())
				}
			}
		}
		return err
	})
	return out
}

// buildVigil builds the real vigil binary into a temporary folder.
// withoutOTelEnv is the test's environment without a trace context or
// OTEL_* variables, which would change what vigil sends and where.
func withoutOTelEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "TRACEPARENT=") || strings.HasPrefix(kv, "TRACESTATE=") || strings.HasPrefix(kv, "OTEL_")
	})
}

func buildVigil(t *testing.T) string {
	t.Helper()
	return vigiltest.Build(t, t.TempDir())
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
