package exporter

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/semconv"
)

// TestExecSpanCarriesItsExec follows an exec span from its start to the
// receiver: its parent, times, the exec's attributes and its own, the
// detection bridged to it as an event, its status. Its sibling in a trace
// that is not sampled records nothing and is not exported.
func TestExecSpanCarriesItsExec(t *testing.T) {
	rcv := otlptest.Start(t)
	exp, err := New(context.Background(), Config{OTLP: true, Spans: true, OTLPSettings: OTLPSettings{OTLPConnection: OTLPConnection{Endpoint: rcv.Endpoint}}})
	require.NoError(t, err)
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true})
	d := sampleRecord("zip", "-q", "x.zip")
	d.Exec.Attributes = slices.Grow(d.Exec.Attributes, detection.SpanRoom)
	shared := slices.Clone(d.Exec.Attributes)

	span := exp.StartExec(parent, d.Exec)
	require.True(t, span.IsRecording())
	require.Equal(t, parent.TraceID(), span.SpanContext().TraceID())
	require.True(t, span.SpanContext().IsSampled())
	require.NoError(t, exp.Emit(trace.ContextWithSpan(context.Background(), span), d))
	span.SetAttributes(semconv.VigilSpanEndKey.String("exit"), semconv.ProcessExitCodeKey.Int(2))
	span.SetStatus(codes.Error, "exit code 2")
	span.SetStatus(codes.Unset, "")
	end := d.Exec.Time.Add(time.Second)
	span.End(trace.WithTimestamp(end))
	span.End() // once only
	require.False(t, span.IsRecording())
	require.Equal(t, shared, d.Exec.Attributes, "the exec's own attributes are left as they were")

	unsampled := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{3}, SpanID: trace.SpanID{4}})
	other := exp.StartExec(unsampled, d.Exec)
	require.False(t, other.IsRecording())
	other.End()
	require.Nil(t, exp.StartExec(trace.SpanContext{}, d.Exec), "no span without a trace")
	require.NoError(t, exp.Shutdown(context.Background()))

	spans := rcv.Spans()
	require.Len(t, spans, 1)
	s := spans[0]
	require.Equal(t, "exec zip", s.Name())
	require.Equal(t, [16]byte(parent.TraceID()), [16]byte(s.TraceID()))
	require.Equal(t, [8]byte(parent.SpanID()), [8]byte(s.ParentSpanID()))
	require.Equal(t, [8]byte(span.SpanContext().SpanID()), [8]byte(s.SpanID()))
	require.Equal(t, d.Exec.Time, s.StartTimestamp().AsTime())
	require.Equal(t, end, s.EndTimestamp().AsTime())
	require.Equal(t, ptrace.StatusCodeError, s.Status().Code())
	require.Equal(t, "exit code 2", s.Status().Message())
	attrs := s.Attributes().AsRaw()
	require.Equal(t, "/usr/bin/zip", attrs[string(semconv.ProcessExecutablePathKey)])
	require.Equal(t, "exit", attrs[string(semconv.VigilSpanEndKey)])
	require.Equal(t, int64(2), attrs[string(semconv.ProcessExitCodeKey)])
	require.Equal(t, 1, s.Events().Len())
	ev := s.Events().At(0)
	require.Equal(t, semconv.DetectionEventName, ev.Name())
	evAttrs := ev.Attributes().AsRaw()
	require.Equal(t, "exec_example", evAttrs[string(semconv.SecurityRuleNameKey)])
	require.Equal(t, int64(4242), evAttrs[string(semconv.ProcessPIDKey)])
	require.Equal(t, Stats{Emitted: 1, Exported: 1, SpansEnded: 1, SpansExported: 1}, exp.Stats())
}

// TestExecSpanEnds ends exec spans both ways, in one call (EndExec, as
// vigil does) and through the trace API, the latter replacing one of the
// exec's attributes: the receiver has each attribute once, the last value
// set, and the exit code's status.
func TestExecSpanEnds(t *testing.T) {
	rcv := otlptest.Start(t)
	exp, err := New(context.Background(), Config{OTLP: true, Spans: true, OTLPSettings: OTLPSettings{OTLPConnection: OTLPConnection{Endpoint: rcv.Endpoint}}})
	require.NoError(t, err)
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true})
	d := sampleRecord("zip", "-q", "x.zip")
	d.Exec.Job = []attribute.KeyValue{semconv.CICDPipelineNameKey.String("ci")}
	at := d.Exec.Time.Add(time.Second)
	exp.StartExec(parent, d.Exec).EndExec(detection.SpanEnd{At: at, Reason: semconv.SpanEndExit, Detections: 2, Exited: true, ExitCode: 3})
	replaced := exp.StartExec(parent, d.Exec)
	replaced.SetAttributes(semconv.ProcessPIDKey.Int(9), semconv.CICDPipelineNameKey.String("other"))
	replaced.End(trace.WithTimestamp(at))
	require.NoError(t, exp.Shutdown(context.Background()))

	spans := rcv.Spans()
	require.Len(t, spans, 2)
	for i, s := range spans {
		keys := map[string]int{}
		for k := range s.Attributes().All() {
			keys[k]++
		}
		for k, n := range keys {
			require.Equal(t, 1, n, "span %d: %s once", i, k)
		}
	}
	ended := spans[0].Attributes().AsRaw()
	require.Equal(t, int64(4242), ended[string(semconv.ProcessPIDKey)])
	require.Equal(t, "ci", ended[string(semconv.CICDPipelineNameKey)])
	require.Equal(t, int64(2), ended[string(semconv.VigilProcessDetectionsKey)])
	require.Equal(t, semconv.SpanEndExit, ended[string(semconv.VigilSpanEndKey)])
	require.Equal(t, int64(3), ended[string(semconv.ProcessExitCodeKey)])
	require.Equal(t, ptrace.StatusCodeError, spans[0].Status().Code())
	require.Equal(t, "exit code 3", spans[0].Status().Message())
	require.Equal(t, at, spans[0].EndTimestamp().AsTime())
	other := spans[1].Attributes().AsRaw()
	require.Equal(t, int64(9), other[string(semconv.ProcessPIDKey)])
	require.Equal(t, "other", other[string(semconv.CICDPipelineNameKey)])
	require.Len(t, other, len(d.Exec.Attributes)+len(d.Exec.Job))
}

// TestSpanAttributesReplaced: attributes set on a span that an exec's
// already has replace it, in a copy, the exec's own staying as they were.
func TestSpanAttributesReplaced(t *testing.T) {
	a, b := semconv.ProcessPIDKey.Int(1), semconv.VigilSpanEndKey.String("exit")
	exec, job := []attribute.KeyValue{a}, []attribute.KeyValue{b}
	got := replaced([]attribute.KeyValue{semconv.ProcessPIDKey.Int(9), semconv.VigilSpanEndKey.String("stop")}, exec, job)
	require.Equal(t, []attribute.KeyValue{semconv.ProcessPIDKey.Int(9), semconv.VigilSpanEndKey.String("stop")}, got)
	require.Equal(t, []attribute.KeyValue{a}, exec, "the exec's own are untouched")
	require.Equal(t, []attribute.KeyValue{b}, job, "the job's own are untouched")
}
