package otlpwire

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Field numbers of opentelemetry.proto.collector.trace.v1 and .trace.v1.
const (
	requestResourceSpans = 1 // ExportTraceServiceRequest.resource_spans

	resourceSpansResource   = 1 // ResourceSpans.resource
	resourceSpansScopeSpans = 2 // ResourceSpans.scope_spans
	resourceSpansSchemaURL  = 3 // ResourceSpans.schema_url

	scopeSpansScope     = 1 // ScopeSpans.scope
	scopeSpansSpans     = 2 // ScopeSpans.spans
	scopeSpansSchemaURL = 3 // ScopeSpans.schema_url

	spanTraceID           = 1  // Span.trace_id
	spanSpanID            = 2  // Span.span_id
	spanTraceState        = 3  // Span.trace_state
	spanParentSpanID      = 4  // Span.parent_span_id
	spanName              = 5  // Span.name
	spanKind              = 6  // Span.kind
	spanStart             = 7  // Span.start_time_unix_nano
	spanEnd               = 8  // Span.end_time_unix_nano
	spanAttributes        = 9  // Span.attributes
	spanDroppedAttributes = 10 // Span.dropped_attributes_count
	spanEvents            = 11 // Span.events
	spanDroppedEvents     = 12 // Span.dropped_events_count
	spanLinks             = 13 // Span.links
	spanDroppedLinks      = 14 // Span.dropped_links_count
	spanStatus            = 15 // Span.status
	spanFlags             = 16 // Span.flags

	eventTime              = 1 // Span.Event.time_unix_nano
	eventName              = 2 // Span.Event.name
	eventAttributes        = 3 // Span.Event.attributes
	eventDroppedAttributes = 4 // Span.Event.dropped_attributes_count

	linkTraceID           = 1 // Span.Link.trace_id
	linkSpanID            = 2 // Span.Link.span_id
	linkAttributes        = 4 // Span.Link.attributes
	linkDroppedAttributes = 5 // Span.Link.dropped_attributes_count
	linkFlags             = 6 // Span.Link.flags

	statusMessage = 2 // Status.message
	statusCode    = 3 // Status.code
)

// Values of opentelemetry.proto.trace.v1's enums.
const (
	flagsHasIsRemote = 0x100 // SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
	flagsIsRemote    = 0x200 // SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK

	statusOk    = 1 // STATUS_CODE_OK
	statusError = 2 // STATUS_CODE_ERROR
)

// Span is what a request tells of one ended span: the data of an
// [sdktrace.ReadOnlySpan], whose mapping to OTLP [AppendTracesRequest]
// does.
type Span struct {
	Name        string
	SpanContext trace.SpanContext
	// Parent is the parent's span context, the zero one for a root span.
	Parent     trace.SpanContext
	Kind       trace.SpanKind
	Start, End time.Time
	// Attributes are lists sent one after the other, as a log record's.
	Attributes [][]attribute.KeyValue
	Events     []Event
	Links      []sdktrace.Link
	Status     sdktrace.Status

	DroppedAttributes, DroppedEvents, DroppedLinks int
}

// Event is what a request tells of one span event.
type Event struct {
	Name string
	Time time.Time
	// Attributes are lists sent one after the other, as a log record's:
	// a detection's event shares the lists of its record.
	Attributes        [][]attribute.KeyValue
	DroppedAttributes int
}

// SpanFromReadOnly returns the data of s. It shares s's slices but its
// events'.
func SpanFromReadOnly(s sdktrace.ReadOnlySpan) Span {
	var events []Event
	for _, e := range s.Events() {
		events = append(events, Event{Name: e.Name, Time: e.Time, Attributes: [][]attribute.KeyValue{e.Attributes}, DroppedAttributes: e.DroppedAttributeCount})
	}
	return Span{
		Name:              s.Name(),
		SpanContext:       s.SpanContext(),
		Parent:            s.Parent(),
		Kind:              s.SpanKind(),
		Start:             s.StartTime(),
		End:               s.EndTime(),
		Attributes:        [][]attribute.KeyValue{s.Attributes()},
		Events:            events,
		Links:             s.Links(),
		Status:            s.Status(),
		DroppedAttributes: s.DroppedAttributes(),
		DroppedEvents:     s.DroppedEvents(),
		DroppedLinks:      s.DroppedLinks(),
	}
}

// AppendTracesRequest appends to dst the ExportTraceServiceRequest of
// spans, all of resource res (nil for none) and of scope, and returns the
// extended slice. It appends nothing when spans is empty: the SDK's
// exporters send no request then.
func AppendTracesRequest(dst []byte, res *resource.Resource, scope instrumentation.Scope, spans []Span) []byte {
	if len(spans) == 0 {
		return dst
	}
	room := batchRoom(len(spans))
	b, rs := openMessageRoom(dst, requestResourceSpans, room)
	if res != nil {
		b = appendResource(b, resourceSpansResource, res)
	}
	b, ss := openMessageRoom(b, resourceSpansScopeSpans, room)
	b = appendScope(b, scopeSpansScope, scope)
	for i := range spans {
		b = appendSpan(b, &spans[i])
	}
	b = appendString(b, scopeSpansSchemaURL, scope.SchemaURL)
	b = closeMessage(b, ss)
	b = appendString(b, resourceSpansSchemaURL, res.SchemaURL())
	return closeMessage(b, rs)
}

// appendSpan appends s as a ScopeSpans' span. As the SDK's exporter, it
// sends the trace and span ids as they are, the parent's only when valid,
// and a status even when unset.
func appendSpan(b []byte, s *Span) []byte {
	b, start := openMessage(b, scopeSpansSpans)
	tid, sid := s.SpanContext.TraceID(), s.SpanContext.SpanID()
	b = appendBytes(b, spanTraceID, tid[:])
	b = appendBytes(b, spanSpanID, sid[:])
	if ts := s.SpanContext.TraceState(); ts.Len() > 0 {
		b = appendString(b, spanTraceState, ts.String())
	}
	if psid := s.Parent.SpanID(); psid.IsValid() {
		b = appendBytes(b, spanParentSpanID, psid[:])
	}
	b = appendString(b, spanName, s.Name)
	b = appendVarint(b, spanKind, kind(s.Kind))
	b = appendTime(b, spanStart, s.Start)
	b = appendTime(b, spanEnd, s.End)
	for _, attrs := range s.Attributes {
		b = appendAttributes(b, spanAttributes, attrs)
	}
	b = appendVarint(b, spanDroppedAttributes, count(s.DroppedAttributes))
	for i := range s.Events {
		b = appendEvent(b, &s.Events[i])
	}
	b = appendVarint(b, spanDroppedEvents, count(s.DroppedEvents))
	for i := range s.Links {
		b = appendLink(b, &s.Links[i])
	}
	b = appendVarint(b, spanDroppedLinks, count(s.DroppedLinks))
	var status mark
	b, status = openMessage(b, spanStatus)
	b = appendString(b, statusMessage, s.Status.Description)
	b = appendVarint(b, statusCode, code(s.Status.Code))
	b = closeMessage(b, status)
	b = appendFixed32(b, spanFlags, flags(s.SpanContext.TraceFlags(), s.Parent))
	return closeMessage(b, start)
}

// appendEvent appends e as a span's event.
func appendEvent(b []byte, e *Event) []byte {
	b, start := openMessage(b, spanEvents)
	b = appendTime(b, eventTime, e.Time)
	b = appendString(b, eventName, e.Name)
	for _, attrs := range e.Attributes {
		b = appendAttributes(b, eventAttributes, attrs)
	}
	b = appendVarint(b, eventDroppedAttributes, count(e.DroppedAttributes))
	return closeMessage(b, start)
}

// appendLink appends l as a span's link. As the SDK's exporter, it sends
// the ids as they are, and not the linked context's trace state.
func appendLink(b []byte, l *sdktrace.Link) []byte {
	b, start := openMessage(b, spanLinks)
	tid, sid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
	b = appendBytes(b, linkTraceID, tid[:])
	b = appendBytes(b, linkSpanID, sid[:])
	b = appendAttributes(b, linkAttributes, l.Attributes)
	b = appendVarint(b, linkDroppedAttributes, count(l.DroppedAttributeCount))
	b = appendFixed32(b, linkFlags, flags(l.SpanContext.TraceFlags(), l.SpanContext))
	return closeMessage(b, start)
}

// flags returns a span's or a link's OTLP flags: the W3C trace flags, and
// whether the parent (for a link, the linked context) is remote, which is
// always known.
func flags(tf trace.TraceFlags, parent trace.SpanContext) uint32 {
	f := uint32(tf) | flagsHasIsRemote
	if parent.IsRemote() {
		f |= flagsIsRemote
	}
	return f
}

// kind returns OTLP's span kind of k, whose values are the API's for
// every valid kind, and unspecified for any other.
func kind(k trace.SpanKind) uint64 {
	switch k {
	case trace.SpanKindInternal, trace.SpanKindServer, trace.SpanKindClient,
		trace.SpanKindProducer, trace.SpanKindConsumer:
		return uint64(k) // #nosec G115 -- one of the five
	default:
		return 0
	}
}

// code returns OTLP's status code of c: OTLP and the API number Ok and
// Error the other way round.
func code(c codes.Code) uint64 {
	switch c {
	case codes.Ok:
		return statusOk
	case codes.Error:
		return statusError
	default:
		return 0
	}
}
