package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/semconv"
)

// TestRunTracesTheCommand wraps a command the way a CI job does and checks
// that the whole process tree lands in one trace: the job's, when vigil's
// environment names one, or a new one rooted at vigil's own span.
func TestRunTracesTheCommand(t *testing.T) {
	vigil := buildVigil(t)
	zip, err := exec.LookPath("zip")
	require.NoError(t, err, "the zip package is needed")
	const (
		traceID = "0af7651916cd43dd8448eb211c80319c"
		jobSpan = "b7ad6b7169203331"
	)

	for _, tc := range []struct {
		name        string
		traceparent string
	}{
		{"continues the job's trace", "00-" + traceID + "-" + jobSpan + "-01"},
		{"starts a trace", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := otlptest.Start(t)
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			// The command prints the context it got, and fails.
			jsonReport := filepath.Join(dir, "report.json")
			cmd := exec.Command(vigil, "run", "--otlp-endpoint", rcv.Endpoint, "--report", "json:"+jsonReport, "--",
				"sh", "-c", `echo "$TRACEPARENT"; `+zip+` -q `+dir+`/x.zip /etc/hostname; exit 3`)
			cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
				return strings.HasPrefix(kv, "TRACEPARENT=") || strings.HasPrefix(kv, "OTEL_")
			}), "TRACEPARENT="+tc.traceparent)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.Equal(t, 3, exitStatus(t, cmd.Run()), "stderr: %s", stderr.String())

			spans := rcv.Spans()
			find := func(name string) otlptest.Span {
				t.Helper()
				i := slices.IndexFunc(spans, func(s otlptest.Span) bool { return s.Name() == name })
				require.GreaterOrEqual(t, i, 0, "no span %q", name)
				return spans[i]
			}
			run, sh, zipSpan := find(semconv.RunSpanPrefix+"sh"), find(semconv.ExecSpanPrefix+"dash"), find(semconv.ExecSpanPrefix+"zip")
			if tc.traceparent != "" {
				require.Equal(t, traceID, run.TraceID().String())
				require.Equal(t, jobSpan, run.ParentSpanID().String())
			} else {
				require.True(t, run.ParentSpanID().IsEmpty(), "a root")
			}
			require.Equal(t, "00-"+run.TraceID().String()+"-"+run.SpanID().String()+"-01", strings.TrimSpace(stdout.String()),
				"the command got vigil's span as its context")
			require.Equal(t, run.SpanID(), sh.ParentSpanID())
			require.Equal(t, sh.SpanID(), zipSpan.ParentSpanID())
			require.Equal(t, ptrace.StatusCodeError, run.Status().Code())
			require.Equal(t, int64(3), run.Attributes().AsRaw()[string(semconv.ProcessExitCodeKey)])

			recs := rcv.Records()
			require.Len(t, recs, 1)
			require.Equal(t, run.TraceID(), recs[0].TraceID())
			require.Equal(t, zipSpan.SpanID(), recs[0].SpanID())

			// The report names the trace, and where in it each detection is.
			rep := readReportFile(t, jsonReport)
			require.Equal(t, run.TraceID().String(), rep.TraceID)
			require.Equal(t, zipSpan.SpanID().String(), rep.Detections[0].SpanID)
			require.Equal(t, 3, *rep.ExitCode)
		})
	}
}

// TestSecretsNeverLeave runs a command with a password in its argv, in a
// traced job, and searches every byte vigil exported for it: log records,
// spans (the shell's script holds it too), metrics, the JSON lines file
// and the console.
func TestSecretsNeverLeave(t *testing.T) {
	vigil := buildVigil(t)
	zip, err := exec.LookPath("zip")
	require.NoError(t, err, "the zip package is needed")
	const secret = "hunter2-Zq9"
	rcv := otlptest.Start(t)
	dir := t.TempDir()
	jsonl := dir + "/out.jsonl"
	var stderr bytes.Buffer
	cmd := exec.Command(vigil, "run", "--otlp-endpoint", rcv.Endpoint, "--jsonl", jsonl, "--",
		"sh", "-c", zip+" -q --password "+secret+" "+dir+"/x.zip /etc/hostname")
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())

	recs, spans := rcv.Records(), rcv.Spans()
	// zip with a password fires exec_example and the recipes of archives
	// made with a password: every record is searched below.
	var names []string
	for _, r := range recs {
		v, _ := r.Attributes().Get(string(semconv.SecurityRuleNameKey))
		names = append(names, v.Str())
	}
	require.Contains(t, names, "exec_example")
	require.NotEmpty(t, spans)
	var exported [][]byte
	for _, r := range recs {
		logs := plog.NewLogs()
		r.Resource.CopyTo(logs.ResourceLogs().AppendEmpty())
		b, err := (&plog.ProtoMarshaler{}).MarshalLogs(logs)
		require.NoError(t, err)
		exported = append(exported, b)
	}
	for _, s := range spans {
		traces := ptrace.NewTraces()
		s.Resource.CopyTo(traces.ResourceSpans().AppendEmpty())
		b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(traces)
		require.NoError(t, err)
		exported = append(exported, b)
	}
	for _, m := range rcv.Metrics() {
		metrics := pmetric.NewMetrics()
		m.Resource.CopyTo(metrics.ResourceMetrics().AppendEmpty())
		b, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(metrics)
		require.NoError(t, err)
		exported = append(exported, b)
	}
	file, err := os.ReadFile(jsonl)
	require.NoError(t, err)
	exported = append(exported, file, stderr.Bytes())
	for i, b := range exported {
		require.NotContains(t, string(b), secret, "export %d", i)
	}
	args := recs[0].Attributes().AsRaw()[string(semconv.ProcessCommandArgsKey)]
	require.Equal(t, []any{zip, "-q", "--password", "[REDACTED]", dir + "/x.zip", "/etc/hostname"}, args)
}
