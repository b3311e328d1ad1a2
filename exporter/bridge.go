package exporter

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"
)

// spanEventBridge is the specification's event to span event bridge: a log
// record that is an Event (it has an EventName) and belongs to a span that
// is still recording becomes a span event on that span, with the same name,
// time and attributes. A detection is emitted once, through the logs API,
// and appears both as a log record and in its process's span.
type spanEventBridge struct{}

var _ sdklog.Processor = spanEventBridge{}

func (spanEventBridge) OnEmit(ctx context.Context, rec *sdklog.Record) error {
	if rec.EventName() == "" {
		return nil
	}
	span := trace.SpanFromContext(ctx)
	sc := span.SpanContext()
	if !span.IsRecording() || sc.TraceID() != rec.TraceID() || sc.SpanID() != rec.SpanID() {
		return nil
	}
	attrs := make([]attribute.KeyValue, 0, rec.AttributesLen())
	rec.WalkAttributes(func(kv attribute.KeyValue) bool {
		attrs = append(attrs, kv)
		return true
	})
	span.AddEvent(rec.EventName(), trace.WithTimestamp(rec.Timestamp()), trace.WithAttributes(attrs...))
	return nil
}

func (spanEventBridge) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

func (spanEventBridge) Shutdown(context.Context) error { return nil }

func (spanEventBridge) ForceFlush(context.Context) error { return nil }
