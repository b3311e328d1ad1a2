package exporter

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"

	"github.com/vigil-otel/vigil/detection"
)

// An exec span is recorded by vigil itself rather than by the SDK's
// tracer. Its attributes are the exec's description, shared with the
// exec's detections rather than copied, and nothing is deduplicated or
// snapshotted when it ends: it becomes the read-only span the SDK's
// processors take (the batching one, to export it; the counting one) in
// one step. The SDK's own span copies its attributes when it starts, again
// when more are set, and builds a map of them when it ends: four times the
// cost of the rest of a traced exec's handling. A vigil span has a parent
// whose sampling decision it follows, as the SDK's default parent-based
// sampler does.

// execSpans records the spans of execs and hands them, ended, to
// processors.
type execSpans struct {
	provider   trace.TracerProvider
	resource   *resource.Resource
	scope      instrumentation.Scope
	processors []sdktrace.SpanProcessor
}

// start starts the span of ex, a child of parent.
func (s *execSpans) start(parent trace.SpanContext, ex *detection.Exec) *execSpan {
	var id trace.SpanID
	for !id.IsValid() {
		u := rand.Uint64()
		for i := range id {
			id[i] = byte(u >> (8 * i))
		}
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    parent.TraceID(),
		SpanID:     id,
		TraceFlags: parent.TraceFlags(),
		TraceState: parent.TraceState(),
	})
	return &execSpan{spans: s, sc: sc, parent: parent, name: ex.SpanName, start: ex.Time, attrs: ex.Attributes}
}

// execSpan is the span of one exec. It records only when its trace is
// sampled.
type execSpan struct {
	embedded.Span
	spans  *execSpans
	sc     trace.SpanContext
	parent trace.SpanContext

	mu    sync.Mutex
	ended bool
	name  string
	start time.Time
	// attrs are the exec's description's, shared and read-only; added are
	// those set since, which End joins to them.
	attrs  []attribute.KeyValue
	added  []attribute.KeyValue
	events []sdktrace.Event
	status sdktrace.Status
}

var _ trace.Span = (*execSpan)(nil)

func (s *execSpan) SpanContext() trace.SpanContext { return s.sc }

func (s *execSpan) IsRecording() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recording()
}

// recording says whether the span still records; s.mu is held.
func (s *execSpan) recording() bool { return !s.ended && s.sc.IsSampled() }

func (s *execSpan) SetStatus(code codes.Code, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// As the SDK: a status never goes down (Unset, Error, Ok), and only
	// Error has a description.
	if !s.recording() || s.status.Code > code {
		return
	}
	s.status = sdktrace.Status{Code: code}
	if code == codes.Error {
		s.status.Description = description
	}
}

func (s *execSpan) SetAttributes(kv ...attribute.KeyValue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recording() {
		s.added = append(s.added, kv...)
	}
}

func (s *execSpan) AddEvent(name string, options ...trace.EventOption) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.recording() {
		return
	}
	cfg := trace.NewEventConfig(options...)
	s.events = append(s.events, sdktrace.Event{Name: name, Attributes: cfg.Attributes(), Time: cfg.Timestamp()})
}

// RecordError does nothing: an exec span's failure is its exit code, in
// its status.
func (*execSpan) RecordError(error, ...trace.EventOption) {}

// AddLink does nothing: exec spans have no links.
func (*execSpan) AddLink(trace.Link) {}

func (s *execSpan) SetName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recording() {
		s.name = name
	}
}

func (s *execSpan) TracerProvider() trace.TracerProvider { return s.spans.provider }

// End hands the span to the processors, once, if its trace is sampled.
func (s *execSpan) End(options ...trace.SpanEndOption) {
	s.mu.Lock()
	if !s.recording() {
		s.mu.Unlock()
		return
	}
	s.ended = true
	cfg := trace.NewSpanEndConfig(options...)
	end := cfg.Timestamp()
	if end.IsZero() {
		end = time.Now()
	}
	attrs := s.attrs
	if len(s.added) > 0 {
		attrs = joinAttributes(s.attrs, s.added)
	}
	ro := tracetest.SpanStub{
		Name:                 s.name,
		SpanContext:          s.sc,
		Parent:               s.parent,
		SpanKind:             trace.SpanKindInternal,
		StartTime:            s.start,
		EndTime:              end,
		Attributes:           attrs,
		Events:               s.events,
		Status:               s.status,
		Resource:             s.spans.resource,
		InstrumentationScope: s.spans.scope,
	}.Snapshot()
	s.mu.Unlock()
	for _, p := range s.spans.processors {
		p.OnEnd(ro)
	}
}

// joinAttributes returns attrs and then added, an added attribute
// replacing an earlier one of its key. It appends in place when attrs has
// room (detection.Exec keeps some for its span), and copies them
// otherwise.
func joinAttributes(attrs, added []attribute.KeyValue) []attribute.KeyValue {
	out := attrs
	if cap(attrs)-len(attrs) < len(added) || slices.ContainsFunc(added, func(kv attribute.KeyValue) bool {
		return slices.ContainsFunc(attrs, func(o attribute.KeyValue) bool { return o.Key == kv.Key })
	}) {
		out = make([]attribute.KeyValue, len(attrs), len(attrs)+len(added))
		copy(out, attrs)
	}
	for _, kv := range added {
		if i := slices.IndexFunc(out, func(o attribute.KeyValue) bool { return o.Key == kv.Key }); i >= 0 {
			out[i] = kv
		} else {
			out = append(out, kv)
		}
	}
	return out
}
