package exporter

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"

	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/internal/otlpwire"
	"github.com/vigil-otel/vigil/internal/outqueue"
	"github.com/vigil-otel/vigil/semconv"
)

// An exec span is recorded by vigil itself rather than by the SDK's
// tracer. Its attributes are the exec's description, shared with the
// exec's detections rather than copied, and nothing is deduplicated or
// snapshotted when it ends: it is handed, as it is, to the queue that
// encodes and sends it. The SDK's own span copies its attributes when it
// starts, again when more are set, and builds a map of them when it ends:
// four times the cost of the rest of a traced exec's handling. A vigil
// span has a parent whose sampling decision it follows, as the SDK's
// default parent-based sampler does.

// execSpans records the spans of execs and hands them, ended, to out.
type execSpans struct {
	provider trace.TracerProvider
	out      *outqueue.Queue[otlpwire.Span]
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
	// The span's own attributes go to the room past the exec's, which
	// only the exec's span writes to.
	return &execSpan{spans: s, sc: sc, parent: parent, name: ex.SpanName, start: ex.Time, attrs: ex.Attributes, job: ex.Job,
		added: ex.Attributes[len(ex.Attributes):len(ex.Attributes):cap(ex.Attributes)]}
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
	// those set since, which follow them, in the room the description
	// keeps past its attributes while it lasts; job are the exec's job's,
	// shared and read-only too.
	attrs []attribute.KeyValue
	added []attribute.KeyValue
	job   []attribute.KeyValue
	// replaces says an added attribute has a key of the exec's.
	replaces bool
	// lists holds the lists of attributes handed out at the end, so that
	// ending allocates none.
	lists  [3][]attribute.KeyValue
	events []otlpwire.Event
	status codes.Code
	// message says why, when status is Error.
	message string
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
	if s.recording() {
		s.setStatus(code, description)
	}
}

// setStatus sets the status; s.mu is held. As the SDK's: a status never
// goes down (Unset, Error, Ok), and only Error has a description.
func (s *execSpan) setStatus(code codes.Code, description string) {
	if s.status > code {
		return
	}
	s.status, s.message = code, ""
	if code == codes.Error {
		s.message = description
	}
}

func (s *execSpan) SetAttributes(kv ...attribute.KeyValue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.recording() {
		return
	}
	for _, a := range kv {
		s.set(a)
	}
}

// set sets one attribute; s.mu is held. The last of a key wins: one of
// the exec's own is replaced, in a copy, when the span ends.
func (s *execSpan) set(a attribute.KeyValue) {
	s.add(a)
	s.replaces = s.replaces || hasKey(s.attrs, a.Key) || hasKey(s.job, a.Key)
}

// add sets one attribute that the exec's own do not have; s.mu is held.
func (s *execSpan) add(a attribute.KeyValue) {
	for i := range s.added {
		if s.added[i].Key == a.Key {
			s.added[i] = a
			return
		}
	}
	s.added = append(s.added, a)
}

// hasKey says whether attrs have one of key.
func hasKey(attrs []attribute.KeyValue, key attribute.Key) bool {
	for i := range attrs {
		if attrs[i].Key == key {
			return true
		}
	}
	return false
}

func (s *execSpan) AddEvent(name string, options ...trace.EventOption) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.recording() {
		return
	}
	cfg := trace.NewEventConfig(options...)
	s.events = append(s.events, otlpwire.Event{Name: name, Time: cfg.Timestamp(), Attributes: [][]attribute.KeyValue{cfg.Attributes()}})
}

// addDetection makes d an event of span, which records: an exec span
// shares the record's attributes, another span copies them.
func addDetection(span trace.Span, d *detection.Record) {
	ev := otlpwire.Event{Name: semconv.DetectionEventName, Time: d.Exec.Time, Attributes: [][]attribute.KeyValue{d.Rule, d.Exec.Attributes, d.Exec.Job, d.Context}}
	if s, ok := span.(*execSpan); ok {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.recording() {
			s.events = append(s.events, ev)
		}
		return
	}
	span.AddEvent(ev.Name, trace.WithTimestamp(ev.Time), trace.WithAttributes(slices.Concat(ev.Attributes...)...))
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

// End hands the span, once, to be sent, if its trace is sampled.
func (s *execSpan) End(options ...trace.SpanEndOption) {
	s.mu.Lock()
	if !s.recording() {
		s.mu.Unlock()
		return
	}
	cfg := trace.NewSpanEndConfig(options...)
	s.end(cfg.Timestamp())
}

// EndExec ends the span as e says, in one call: see
// detection.ExecSpan.
func (s *execSpan) EndExec(e detection.SpanEnd) {
	s.mu.Lock()
	if !s.recording() {
		s.mu.Unlock()
		return
	}
	// An exec's description has none of the span's own attributes.
	var buf [detection.SpanRoom]attribute.KeyValue
	for _, a := range e.Attributes(buf[:0]) {
		s.add(a)
	}
	s.setStatus(e.Status())
	s.end(e.At)
}

// end hands the span, ended at `at` (now when zero), to be sent; s.mu is
// held, and end releases it.
func (s *execSpan) end(at time.Time) {
	s.ended = true
	if at.IsZero() {
		at = time.Now()
	}
	s.lists = [3][]attribute.KeyValue{s.attrs, s.added, s.job}
	attrs := s.lists[:]
	if s.replaces {
		s.lists = [3][]attribute.KeyValue{replaced(s.added, s.attrs, s.job)}
		attrs = s.lists[:1]
	}
	span := otlpwire.Span{
		Name:        s.name,
		SpanContext: s.sc,
		Parent:      s.parent,
		Kind:        trace.SpanKindInternal,
		Start:       s.start,
		End:         at,
		Attributes:  attrs,
		Events:      s.events,
		Status:      sdktrace.Status{Code: s.status, Description: s.message},
	}
	s.mu.Unlock()
	s.spans.out.Offer(span)
}

// replaced returns the attributes of lists and then added, in a new
// slice, an added attribute replacing an earlier one of its key.
func replaced(added []attribute.KeyValue, lists ...[]attribute.KeyValue) []attribute.KeyValue {
	out := slices.Concat(lists...)
	for _, kv := range added {
		if i := slices.IndexFunc(out, func(o attribute.KeyValue) bool { return o.Key == kv.Key }); i >= 0 {
			out[i] = kv
		} else {
			out = append(out, kv)
		}
	}
	return out
}
