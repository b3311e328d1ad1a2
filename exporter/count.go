package exporter

import (
	"context"
	"sync/atomic"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// deliveries counts what a network exporter delivered and failed to.
type deliveries struct {
	exported, failed atomic.Uint64
}

func (d *deliveries) count(n int, err error) {
	if err != nil {
		d.failed.Add(uint64(n))
	} else {
		d.exported.Add(uint64(n))
	}
}

// lost is how many of sent were not delivered: failed, or, once the
// pipeline is shut down, never exported at all (dropped from the SDK's
// full batch queue, which tells no one, or still queued at the end).
func (d *deliveries) lost(sent uint64, shutdown bool) uint64 {
	exported, failed := d.exported.Load(), d.failed.Load()
	if shutdown && sent > exported+failed {
		return sent - exported
	}
	return failed
}

// countingExporter counts the detections the OTLP log exporter it wraps
// delivers and fails to.
type countingExporter struct {
	sdklog.Exporter
	deliveries
}

func (c *countingExporter) Export(ctx context.Context, records []sdklog.Record) error {
	err := c.Exporter.Export(ctx, records)
	c.count(len(records), err)
	return err
}

// countingSpanExporter counts the spans the OTLP trace exporter it wraps
// delivers and fails to.
type countingSpanExporter struct {
	sdktrace.SpanExporter
	deliveries
}

func (c *countingSpanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := c.SpanExporter.ExportSpans(ctx, spans)
	c.count(len(spans), err)
	return err
}

// endedSpans counts the sampled spans that end: those the batch processor
// after it takes to export.
type endedSpans struct {
	n atomic.Uint64
}

var _ sdktrace.SpanProcessor = (*endedSpans)(nil)

func (e *endedSpans) OnEnd(s sdktrace.ReadOnlySpan) {
	if s.SpanContext().IsSampled() {
		e.n.Add(1)
	}
}

func (*endedSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (*endedSpans) Shutdown(context.Context) error                  { return nil }
func (*endedSpans) ForceFlush(context.Context) error                { return nil }

// Stats counts the detections and spans the exporter handled.
type Stats struct {
	// Emitted is the number of detections emitted.
	Emitted uint64
	// Exported is the number the OTLP exporter delivered.
	Exported uint64
	// Failed is the number the OTLP exporter could not deliver; after
	// Shutdown it includes those dropped from a full queue or never sent.
	Failed uint64
	// SpansEnded, SpansExported and SpansFailed count the sampled spans
	// the same way.
	SpansEnded, SpansExported, SpansFailed uint64
}

// Stats returns the counts so far.
func (e *Exporter) Stats() Stats {
	st := Stats{Emitted: e.emitted.Load()}
	shutdown := e.shutdown.Load()
	if e.otlp != nil {
		st.Exported, st.Failed = e.otlp.exported.Load(), e.otlp.lost(st.Emitted, shutdown)
	}
	if e.spans != nil {
		st.SpansEnded = e.ended.n.Load()
		st.SpansExported, st.SpansFailed = e.spans.exported.Load(), e.spans.lost(st.SpansEnded, shutdown)
	}
	return st
}
