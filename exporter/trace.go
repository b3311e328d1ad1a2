package exporter

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/detection"
)

// Tracing says whether spans are exported: StartExec and StartRun make
// none otherwise.
func (e *Exporter) Tracing() bool { return e.tracer != nil }

// StartExec starts the span of exec ex, a child of parent, and returns it;
// nil when spans are off or parent is not valid. The span is sampled when
// its parent is.
func (e *Exporter) StartExec(parent trace.SpanContext, ex *detection.Exec) trace.Span {
	if e.execSpans == nil || !parent.IsValid() {
		return nil
	}
	return e.execSpans.start(parent, ex)
}

// StartRun starts the span of `vigil run -- COMMAND`, named name: a child
// of the context in ctx (which vigil's own environment gave), or the root
// of a new trace. The command's processes become its descendants once its
// context is in their environment.
func (e *Exporter) StartRun(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if e.tracer == nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	return e.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}
