package otlpwire_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/internal/otlpwire"
	"github.com/vigil-otel/vigil/semconv"
)

// TestInvalidUTF8LosesNoBatch shows what one argv that is not UTF-8 does
// to the SDK's exporter, which fails the whole batch, and checks that this
// package sends the batch with the bad bytes replaced.
func TestInvalidUTF8LosesNoBatch(t *testing.T) {
	ctx := context.Background()
	rcv := startReceiver(t)
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(rcv.addr), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = exp.Shutdown(ctx) })
	rec := tracetest.NewSpanRecorder()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("t")
	_, good := tracer.Start(ctx, "exec true")
	good.End()
	_, bad := tracer.Start(ctx, "exec cat", trace.WithAttributes(semconv.ProcessCommandArgsKey.StringSlice([]string{"cat", "caf\xe9"})))
	bad.End()

	ended := rec.Ended()
	err = exp.ExportSpans(ctx, ended)
	require.ErrorContains(t, err, "invalid UTF-8")
	require.Empty(t, rcv.tracesRequests(), "the SDK's exporter sent nothing, not even the good span")

	spans := []otlpwire.Span{otlpwire.SpanFromReadOnly(ended[0]), otlpwire.SpanFromReadOnly(ended[1])}
	got := decodeTraces(t, otlpwire.AppendTracesRequest(nil, ended[0].Resource(), ended[0].InstrumentationScope(), spans))
	sent := got.ResourceSpans[0].ScopeSpans[0].Spans
	require.Len(t, sent, 2)
	require.Equal(t, "exec true", sent[0].Name)
	requireProtoEqual(t, arrayValue(stringValue("cat"), stringValue("caf\uFFFD")), sent[1].Attributes[0].Value)
}

// TestInvalidUTF8EveryString checks that every string field of a request
// is sent as valid UTF-8, as proto.Unmarshal (which decodeTraces and
// decodeLogs call) refuses anything else.
func TestInvalidUTF8EveryString(t *testing.T) {
	const bad, fixed = "x\xffy", "x\uFFFDy"
	k := keys()
	res := resource.NewWithAttributes(bad, k[0].String(bad))
	scope := instrumentation.Scope{Name: bad, Version: bad, SchemaURL: bad, Attributes: attribute.NewSet(k[1].String(bad))}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}})
	span := otlpwire.Span{Name: bad, SpanContext: sc, Status: sdktrace.Status{Code: codes.Error, Description: bad},
		Events: []otlpwire.Event{{Name: bad}}, Links: []sdktrace.Link{{SpanContext: sc, Attributes: []attribute.KeyValue{k[2].String(bad)}}}}
	traces := decodeTraces(t, otlpwire.AppendTracesRequest(nil, res, scope, []otlpwire.Span{span}))
	rs := traces.ResourceSpans[0]
	ss := rs.ScopeSpans[0]
	s := ss.Spans[0]
	require.Equal(t, []string{fixed, fixed, fixed, fixed, fixed, fixed, fixed, fixed, fixed, fixed}, []string{
		rs.SchemaUrl, rs.Resource.Attributes[0].Value.GetStringValue(), ss.SchemaUrl, ss.Scope.Name, ss.Scope.Version,
		ss.Scope.Attributes[0].Value.GetStringValue(), s.Name, s.Status.Message, s.Events[0].Name,
		s.Links[0].Attributes[0].Value.GetStringValue(),
	})

	rec := otlpwire.LogRecord{EventName: bad, SeverityText: bad, Body: attribute.StringValue(bad)}
	logs := decodeLogs(t, otlpwire.AppendLogsRequest(nil, res, scope, []otlpwire.LogRecord{rec}))
	r := logs.ResourceLogs[0].ScopeLogs[0].LogRecords[0]
	require.Equal(t, []string{fixed, fixed, fixed}, []string{r.EventName, r.SeverityText, r.Body.GetStringValue()})
}
