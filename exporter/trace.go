package exporter

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/internal/otlpwire"
	"github.com/vigil-otel/vigil/internal/outqueue"
	"github.com/vigil-otel/vigil/semconv"
)

// Tracing says whether spans are exported: StartExec and StartRun make
// none otherwise.
func (e *Exporter) Tracing() bool { return e.tracer != nil }

// StartExec starts the span of exec ex, a child of parent, and returns it;
// nil when spans are off or parent is not valid. The span is sampled when
// its parent is.
func (e *Exporter) StartExec(parent trace.SpanContext, ex *detection.Exec) detection.ExecSpan {
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

// spanDelay is how long the spans queue waits, after a span, for more
// before it sends what it has: a request costs more than the span it
// carries, and a span, unlike a detection, calls for no one's attention.
// OTEL_BSP_SCHEDULE_DELAY says how long, in milliseconds, as it does for
// the SDK's batching (0: none); else 1 s, sooner than the SDK's 5 s.
// Every span still leaves at once when vigil stops.
func spanDelay() (time.Duration, error) {
	v := os.Getenv("OTEL_BSP_SCHEDULE_DELAY")
	if v == "" {
		return time.Second, nil
	}
	ms, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("OTEL_BSP_SCHEDULE_DELAY %q: want a whole number of milliseconds, 0 or more", v)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// newTracerProvider makes the tracer of the run's span, which the SDK
// samples as OTEL_TRACES_SAMPLER says (following its parent by default),
// and the recorder of exec spans. Both hand their ended spans to the OTLP
// spans queue.
func (e *Exporter) newTracerProvider(cfg Config, res *resource.Resource) {
	e.traces = sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSpanProcessor(spanForwarder{e.otlpSpans}))
	e.tracer = e.traces.Tracer(scopeName, trace.WithInstrumentationVersion(cfg.ServiceVersion), trace.WithSchemaURL(semconv.SchemaURL))
	e.execSpans = &execSpans{provider: e.traces, out: e.otlpSpans}
}

// spanForwarder hands the SDK's sampled spans, ended, to the queue that
// sends them.
type spanForwarder struct {
	out *outqueue.Queue[otlpwire.Span]
}

var _ sdktrace.SpanProcessor = spanForwarder{}

func (f spanForwarder) OnEnd(s sdktrace.ReadOnlySpan) {
	if s.SpanContext().IsSampled() {
		f.out.Offer(otlpwire.SpanFromReadOnly(s))
	}
}

func (spanForwarder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (spanForwarder) Shutdown(context.Context) error                  { return nil }
func (spanForwarder) ForceFlush(context.Context) error                { return nil }
