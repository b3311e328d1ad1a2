package otlpwire_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/internal/otlpwire"
	"github.com/vigil-otel/vigil/semconv"
)

// stringAttrs returns n string attributes of distinct keys.
func stringAttrs(n int) []attribute.KeyValue {
	out := make([]attribute.KeyValue, n)
	for i, k := range keys()[:n] {
		out[i] = k.String("value")
	}
	return out
}

// TestTracesParity sends spans of the real SDK through its OTLP/gRPC
// exporter and checks that this package encodes the very request it
// sends: a remote parent with a trace state, every attribute type,
// events and links with attributes, an invalid link, each status, and
// attributes, events and links past the span limits.
func TestTracesParity(t *testing.T) {
	ctx := context.Background()
	rcv := startReceiver(t)
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(rcv.addr), otlptracegrpc.WithInsecure())
	require.NoError(t, err)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(testResource()), sdktrace.WithSpanProcessor(rec),
		sdktrace.WithBatcher(exp), sdktrace.WithRawSpanLimits(sdktrace.SpanLimits{
			AttributeValueLengthLimit: -1, AttributeCountLimit: 30, EventCountLimit: 2, LinkCountLimit: 2,
			AttributePerEventCountLimit: 4, AttributePerLinkCountLimit: 4,
		}))
	t.Cleanup(func() { _ = tp.Shutdown(ctx) })
	scope := testScope()
	tracer := tp.Tracer(scope.Name, trace.WithInstrumentationVersion(scope.Version), trace.WithSchemaURL(scope.SchemaURL),
		trace.WithInstrumentationAttributeSet(scope.Attributes))

	start := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	ts, err := trace.ParseTraceState("vendor=value,other=x")
	require.NoError(t, err)
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5},
		TraceFlags: trace.FlagsSampled, TraceState: ts, Remote: true})
	k := keys()

	ctx1, exec := tracer.Start(trace.ContextWithRemoteSpanContext(ctx, parent), "exec gcc",
		trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start), trace.WithAttributes(attrs(utf8Cases())...),
		trace.WithLinks(
			trace.Link{SpanContext: parent, Attributes: []attribute.KeyValue{k[0].Bool(true)}},
			trace.Link{Attributes: []attribute.KeyValue{k[1].String("no context")}},
		))
	exec.AddEvent(semconv.DetectionEventName, trace.WithTimestamp(start.Add(time.Millisecond)),
		trace.WithAttributes(k[0].String("reverse-shell"), k[1].Int(3)))
	exec.SetStatus(codes.Error, "exit status 1")
	_, child := tracer.Start(ctx1, "child", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start))
	child.SetStatus(codes.Ok, "")
	child.End(trace.WithTimestamp(start.Add(time.Millisecond)))
	exec.End(trace.WithTimestamp(start.Add(time.Second)))

	// Past every limit: 40 attributes of 30, 3 events and links of 2, with
	// 6 attributes of 4 each.
	var links []trace.Link
	for i := range 3 {
		links = append(links, trace.Link{SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{byte(i + 1)}, SpanID: trace.SpanID{1}}), Attributes: stringAttrs(6)})
	}
	_, limited := tracer.Start(ctx, "limited", trace.WithAttributes(stringAttrs(40)...), trace.WithLinks(links...))
	for range 3 {
		limited.AddEvent("event", trace.WithAttributes(stringAttrs(6)...))
	}
	limited.End()
	require.NoError(t, tp.ForceFlush(ctx))

	requests := rcv.tracesRequests()
	require.Len(t, requests, 1)
	ended := rec.Ended()
	spans := make([]otlpwire.Span, len(ended))
	for i, s := range ended {
		spans[i] = otlpwire.SpanFromReadOnly(s)
	}
	got := decodeTraces(t, otlpwire.AppendTracesRequest(nil, ended[0].Resource(), ended[0].InstrumentationScope(), spans))
	requireProtoEqual(t, requests[0], got)

	// What the comparison covered.
	sent := got.ResourceSpans[0].ScopeSpans[0].Spans
	require.Len(t, sent, 3)
	require.Equal(t, []string{"child", "exec gcc", "limited"}, []string{sent[0].Name, sent[1].Name, sent[2].Name})
	require.Equal(t, uint32(0x301), sent[1].Flags)
	require.Len(t, sent[1].Links, 2)
	require.Equal(t, []uint32{10, 1, 1}, []uint32{sent[2].DroppedAttributesCount, sent[2].DroppedEventsCount, sent[2].DroppedLinksCount})
	require.Equal(t, uint32(2), sent[2].Events[0].DroppedAttributesCount)
	require.Equal(t, uint32(2), sent[2].Links[0].DroppedAttributesCount)
}

// captureProcessor keeps a copy of each record emitted.
type captureProcessor struct{ records []sdklog.Record }

func (p *captureProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	p.records = append(p.records, r.Clone())
	return nil
}

func (*captureProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (*captureProcessor) Shutdown(context.Context) error                         { return nil }
func (*captureProcessor) ForceFlush(context.Context) error                       { return nil }

// TestLogsParity sends records of the real SDK through its OTLP/gRPC
// exporter and checks that this package encodes the very request it
// sends: a detection in a span's context, a record with nothing set, one
// with a map body and more attributes than the limit.
func TestLogsParity(t *testing.T) {
	ctx := context.Background()
	rcv := startReceiver(t)
	exp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(rcv.addr), otlploggrpc.WithInsecure())
	require.NoError(t, err)
	capture := &captureProcessor{}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(testResource()), sdklog.WithProcessor(capture),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)), sdklog.WithAttributeCountLimit(30))
	t.Cleanup(func() { _ = lp.Shutdown(ctx) })
	scope := testScope()
	logger := lp.Logger(scope.Name, log.WithInstrumentationVersion(scope.Version), log.WithSchemaURL(scope.SchemaURL),
		log.WithInstrumentationAttributeSet(scope.Attributes))

	now := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	var detection log.Record
	detection.SetEventName(semconv.DetectionEventName)
	detection.SetTimestamp(now)
	detection.SetObservedTimestamp(now.Add(time.Millisecond))
	detection.SetSeverity(log.SeverityWarn)
	detection.SetSeverityText("WARN")
	detection.SetBody(attribute.StringValue("curl piped to a shell"))
	detection.AddAttributes(attrs(utf8Cases())...)
	span := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5},
		TraceFlags: trace.FlagsSampled})
	logger.Emit(trace.ContextWithSpanContext(ctx, span), detection)

	logger.Emit(ctx, log.Record{})

	var limited log.Record
	limited.SetSeverity(log.SeverityFatal4)
	limited.SetBody(attribute.MapValue(keys()[0].Int(1), keys()[1].StringSlice([]string{"a", "b"})))
	limited.AddAttributes(stringAttrs(40)...)
	logger.Emit(ctx, limited)
	require.NoError(t, lp.ForceFlush(ctx))

	requests := rcv.logsRequests()
	require.Len(t, requests, 1)
	recs := make([]otlpwire.LogRecord, len(capture.records))
	for i := range capture.records {
		setFromRecord(&recs[i], &capture.records[i])
	}
	first := &capture.records[0]
	got := decodeLogs(t, otlpwire.AppendLogsRequest(nil, first.Resource(), first.InstrumentationScope(), recs))
	requireProtoEqual(t, requests[0], got)

	// What the comparison covered.
	sent := got.ResourceLogs[0].ScopeLogs[0].LogRecords
	require.Len(t, sent, 3)
	require.Equal(t, semconv.DetectionEventName, sent[0].EventName)
	require.Equal(t, []byte{4, 5, 0, 0, 0, 0, 0, 0}, sent[0].SpanId)
	require.Nil(t, sent[1].SpanId)
	require.NotZero(t, sent[1].ObservedTimeUnixNano)
	require.Equal(t, uint32(10), sent[2].DroppedAttributesCount)
}

// setFromRecord makes l the data of r, a record of the SDK. It copies r's attributes into one
// list, reusing the room of l's first, so that records set again and again
// allocate nothing once they have grown.
func setFromRecord(l *otlpwire.LogRecord, r *sdklog.Record) {
	var attrs []attribute.KeyValue
	if len(l.Attributes) > 0 {
		attrs = l.Attributes[0][:0]
	}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		attrs = append(attrs, kv)
		return true
	})
	*l = otlpwire.LogRecord{
		Time:              r.Timestamp(),
		Observed:          r.ObservedTimestamp(),
		EventName:         r.EventName(),
		Severity:          r.Severity(),
		SeverityText:      r.SeverityText(),
		Body:              r.Body(),
		Attributes:        append(l.Attributes[:0], attrs),
		DroppedAttributes: r.DroppedAttributes(),
		TraceID:           r.TraceID(),
		SpanID:            r.SpanID(),
		Flags:             r.TraceFlags(),
	}
}
