package pipeline

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/semconv"
	"github.com/vigil-otel/vigil/spans"
)

// TestDetectionLandsInThePipelinesTrace runs a command the way a traced CI
// step does, with TRACEPARENT in its environment, and follows the context
// down a child of a child that lost the variable: each exec gets a span in
// that trace, and the detection is both a log record of the span and an
// event on it.
func TestDetectionLandsInThePipelinesTrace(t *testing.T) {
	const (
		traceID  = "4bf92f3577b34da6a3ce929d0e0e4736"
		stepSpan = "00f067aa0ba902b7"
	)
	rcv, stop := watched(t, spans.All)

	// zip is a copy of false: the detection's process fails.
	zip := copyProgram(t, "/bin/false", t.TempDir(), "zip")
	cmd := exec.Command("/bin/sh", "-c", "env -u TRACEPARENT "+zip+" -q out.zip; true")
	// The step of a GitHub Actions job: its variables name the job.
	cmd.Env = append(os.Environ(), "TRACEPARENT=00-"+traceID+"-"+stepSpan+"-01",
		"GITHUB_ACTIONS=true", "GITHUB_WORKFLOW=release", "GITHUB_RUN_ID=9876543210", "GITHUB_RUN_ATTEMPT=2",
		"GITHUB_JOB=package", "GITHUB_REPOSITORY=acme/app", "GITHUB_SERVER_URL=https://github.com",
		"GITHUB_SHA=0123456789abcdef0123456789abcdef01234567", "RUNNER_NAME=runner-7")
	require.NoError(t, cmd.Run())

	require.Equal(t, uint64(1), stop().Detections)

	recs := rcv.Records()
	require.Len(t, recs, 1)
	rec := recs[0]
	require.Equal(t, traceID, rec.TraceID().String())

	spans := rcv.Spans()
	byName := func(name string) otlptest.Span {
		t.Helper()
		i := slices.IndexFunc(spans, func(s otlptest.Span) bool { return s.Name() == name })
		require.GreaterOrEqual(t, i, 0, "no span %q among %d", name, len(spans))
		return spans[i]
	}
	sh, env, zipSpan := byName("exec dash"), byName("exec env"), byName("exec zip")
	for _, s := range []otlptest.Span{sh, env, zipSpan} {
		require.Equal(t, traceID, s.TraceID().String(), s.Name())
	}
	require.Equal(t, stepSpan, sh.ParentSpanID().String(), "the shell continues the step's context")
	require.Equal(t, sh.SpanID(), env.ParentSpanID(), "env is the shell's child")
	require.Equal(t, env.SpanID(), zipSpan.ParentSpanID(), "zip is what env exec'd")
	require.Equal(t, zipSpan.SpanID(), rec.SpanID(), "the detection belongs to zip's span")

	job := map[string]any{
		string(semconv.CICDPipelineNameKey):       "release",
		string(semconv.CICDPipelineRunIDKey):      "9876543210-2",
		string(semconv.CICDPipelineTaskNameKey):   "package",
		string(semconv.CICDWorkerNameKey):         "runner-7",
		string(semconv.VCSRepositoryURLFullKey):   "https://github.com/acme/app",
		string(semconv.VCSRefHeadRevisionKey):     "0123456789abcdef0123456789abcdef01234567",
		string(semconv.CICDPipelineRunURLFullKey): "https://github.com/acme/app/actions/runs/9876543210",
	}
	recAttrs, zipAttrs := rec.Attributes().AsRaw(), zipSpan.Attributes().AsRaw()
	for k, v := range job {
		require.Equal(t, v, recAttrs[k], "the detection names the job: %s", k)
		require.Equal(t, v, zipAttrs[k], "so does the span: %s", k)
	}

	require.Equal(t, int64(1), zipAttrs[string(semconv.ProcessExitCodeKey)])
	require.Equal(t, int64(1), zipAttrs[string(semconv.VigilProcessDetectionsKey)])
	require.Equal(t, []any{zip, "-q", "out.zip"}, zipAttrs[string(semconv.ProcessCommandArgsKey)])
	require.Equal(t, ptrace.StatusCodeError, zipSpan.Status().Code())
	require.Equal(t, ptrace.StatusCodeUnset, sh.Status().Code())
	require.Equal(t, int64(1), sh.Attributes().AsRaw()[string(semconv.VigilProcessDetectionsKey)], "counted up the tree")
	require.False(t, zipSpan.EndTimestamp().AsTime().Before(zipSpan.StartTimestamp().AsTime()))

	// The bridge: the same detection, as an event on the span.
	require.Equal(t, 1, zipSpan.Events().Len())
	ev := zipSpan.Events().At(0)
	require.Equal(t, semconv.DetectionEventName, ev.Name())
	require.Equal(t, rec.Timestamp(), ev.Timestamp())
	require.Equal(t, rec.Attributes().AsRaw(), ev.Attributes().AsRaw())
}

// TestDetectionsOnlySpans gives spans to the processes with detections
// and to their ancestors only, made when the detection happens yet as if
// made at their execs; a process that has a span keeps one for what it
// execs next.
func TestDetectionsOnlySpans(t *testing.T) {
	const (
		traceID  = "4bf92f3577b34da6a3ce929d0e0e4736"
		stepSpan = "00f067aa0ba902b7"
	)
	rcv, stop := watched(t, spans.Detections)
	dir := t.TempDir()
	zip := copyProgram(t, "/bin/true", dir, "zip")
	other := copyProgram(t, "/bin/true", dir, "benign")
	cmd := exec.Command("/bin/sh", "-c", other+"; "+zip+"; "+other+"; exec "+other)
	cmd.Env = append(os.Environ(), "TRACEPARENT=00-"+traceID+"-"+stepSpan+"-01")
	require.NoError(t, cmd.Run())

	require.Equal(t, uint64(1), stop().Detections)
	spans := rcv.Spans()
	var names []string
	for _, s := range spans {
		names = append(names, s.Name())
	}
	slices.Sort(names)
	require.Equal(t, []string{semconv.ExecSpanPrefix + "benign", semconv.ExecSpanPrefix + "dash", semconv.ExecSpanPrefix + "zip"}, names,
		"the shell, zip, and what the shell exec'd last; not the benign child before or after zip")
	span := func(name string) otlptest.Span {
		return spans[slices.IndexFunc(spans, func(s otlptest.Span) bool { return s.Name() == semconv.ExecSpanPrefix+name })]
	}
	sh, zipSpan, last := span("dash"), span("zip"), span("benign")
	for _, s := range spans {
		require.Equal(t, traceID, s.TraceID().String())
	}
	require.Equal(t, stepSpan, sh.ParentSpanID().String())
	require.Equal(t, sh.SpanID(), zipSpan.ParentSpanID())
	require.Equal(t, sh.SpanID(), last.ParentSpanID(), "the program the shell exec'd follows it")
	require.Equal(t, 1, zipSpan.Events().Len(), "the detection, bridged")
	require.Equal(t, zipSpan.SpanID(), rcv.Records()[0].SpanID())
	// Made late, each span still starts at its exec: the shell's before
	// zip's, and ends at the next exec.
	require.True(t, sh.StartTimestamp().AsTime().Before(zipSpan.StartTimestamp().AsTime()))
	require.Equal(t, sh.EndTimestamp(), last.StartTimestamp())
	require.False(t, zipSpan.EndTimestamp().AsTime().Before(zipSpan.StartTimestamp().AsTime()))
}

// TestForgottenProcessesEndTheirSpans runs ten traced programs at once
// under a process table of two: the table forgets most of them, and the
// shell, before they exit, yet every span is ended and exported, or
// counted as lost.
func TestForgottenProcessesEndTheirSpans(t *testing.T) {
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	rcv, stop := watchedConfig(t, spans.All, Config{Recipes: builtinRecipe(t, "exec_example"), TableCapacity: 2})
	nap := copyProgram(t, "/bin/sleep", t.TempDir(), "nap")
	script := strings.Repeat(nap+" 0.3 & ", 10) + "wait"
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = append(os.Environ(), "TRACEPARENT=00-"+traceID+"-00f067aa0ba902b7-01")
	require.NoError(t, cmd.Run())

	sum := stop()
	require.GreaterOrEqual(t, sum.TableEvictions, uint64(9), "the table forgot the programs it had no room for")
	var naps, shells int
	for _, s := range rcv.Spans() {
		require.Equal(t, traceID, s.TraceID().String(), s.Name())
		switch s.Name() {
		case semconv.ExecSpanPrefix + "nap":
			naps++
		case semconv.ExecSpanPrefix + "dash":
			shells++
		}
	}
	require.Zero(t, sum.Exporter.SpansFailed, "nothing to count as lost: the receiver takes everything")
	require.Equal(t, 10, naps, "one span per exec of nap")
	require.Equal(t, 1, shells, "and the shell's")
}
