package exporter

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/semconv"
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

// newTracerProvider exports spans over OTLP/gRPC, batched, keeping the
// sampling decision of the trace each process continues, and counts what
// it loses.
func (e *Exporter) newTracerProvider(ctx context.Context, cfg Config, res *resource.Resource) error {
	exp, err := otlptracegrpc.New(ctx, otlpOptions(cfg.OTLPSettings.of(cfg.OTLPSettings.Traces), "TRACES", grpcOptions[otlptracegrpc.Option]{
		otlptracegrpc.WithEndpointURL, otlptracegrpc.WithHeaders, otlptracegrpc.WithInsecure,
		otlptracegrpc.WithTimeout, otlptracegrpc.WithCompressor, otlptracegrpc.WithTLSCredentials,
	})...)
	if err != nil {
		return fmt.Errorf("create OTLP trace exporter: %w", err)
	}
	e.spans, e.ended = &countingSpanExporter{SpanExporter: exp}, &endedSpans{}
	batcher := sdktrace.NewBatchSpanProcessor(e.spans)
	e.traces = sdktrace.NewTracerProvider(sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(e.ended), sdktrace.WithSpanProcessor(batcher))
	e.execSpans = &execSpans{
		provider:   e.traces,
		resource:   res,
		scope:      instrumentation.Scope{Name: scopeName, Version: cfg.ServiceVersion, SchemaURL: semconv.SchemaURL},
		processors: []sdktrace.SpanProcessor{e.ended, batcher},
	}
	return nil
}
