package exporter

import (
	"context"
	"fmt"
	"path/filepath"

	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/semconv"
)

// SpanMode says which processes that run in a trace get a span.
type SpanMode int

const (
	// SpansAll gives every traced process a span.
	SpansAll SpanMode = iota
	// SpansDetections gives spans only to processes with detections and
	// to their ancestors, once a detection calls for them; each starts at
	// its exec all the same. A process that has one keeps one for the
	// programs it execs next.
	SpansDetections
	// SpansNone exports no spans: detections still carry the trace
	// context their process inherited.
	SpansNone
)

func (m SpanMode) String() string {
	switch m {
	case SpansAll:
		return "all"
	case SpansDetections:
		return "detections"
	case SpansNone:
		return "none"
	}
	return fmt.Sprintf("SpanMode(%d)", int(m))
}

// Set parses a mode by its name, for flags and configuration files.
func (m *SpanMode) Set(name string) error {
	for _, mode := range []SpanMode{SpansAll, SpansDetections, SpansNone} {
		if mode.String() == name {
			*m = mode
			return nil
		}
	}
	return fmt.Errorf("span mode %q: want all, detections or none", name)
}

// Type names the value for flag help.
func (*SpanMode) Type() string { return "all|detections|none" }

// SpanMode says which processes get spans: SpansNone when spans are not
// exported at all.
func (e *Exporter) SpanMode() SpanMode { return e.spanMode }

// StartExec starts the span of the exec ev of p, a child of parent, and
// returns it; nil when spans are off or parent is not valid.
func (e *Exporter) StartExec(parent trace.SpanContext, p *proctable.Process, ev *event.Event) trace.Span {
	if e.tracer == nil || !parent.IsValid() {
		return nil
	}
	ctx := trace.ContextWithSpanContext(context.Background(), parent)
	_, span := e.tracer.Start(ctx, semconv.ExecSpanPrefix+filepath.Base(e.safe(p.Exe)),
		trace.WithTimestamp(ev.Time),
		trace.WithAttributes(e.processAttributes(p, ev)...))
	return span
}

// StartRun starts the span of `vigil run -- COMMAND`: a child of the
// context in ctx (which vigil's own environment gave), or the root of a new
// trace. The command's processes become its descendants once its context
// is in their environment.
func (e *Exporter) StartRun(ctx context.Context, command []string) (context.Context, trace.Span) {
	if e.tracer == nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	name := semconv.RunSpanPrefix + filepath.Base(e.safe(command[0]))
	return e.tracer.Start(ctx, name, trace.WithAttributes(semconv.ProcessCommandArgsKey.StringSlice(e.safeArgs(command[0], command))))
}
