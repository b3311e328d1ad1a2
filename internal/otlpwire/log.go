package otlpwire

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

// Field numbers of opentelemetry.proto.collector.logs.v1 and .logs.v1.
const (
	requestResourceLogs = 1 // ExportLogsServiceRequest.resource_logs

	resourceLogsResource  = 1 // ResourceLogs.resource
	resourceLogsScopeLogs = 2 // ResourceLogs.scope_logs
	resourceLogsSchemaURL = 3 // ResourceLogs.schema_url

	scopeLogsScope      = 1 // ScopeLogs.scope
	scopeLogsLogRecords = 2 // ScopeLogs.log_records
	scopeLogsSchemaURL  = 3 // ScopeLogs.schema_url

	recordTime              = 1  // LogRecord.time_unix_nano
	recordSeverityNumber    = 2  // LogRecord.severity_number
	recordSeverityText      = 3  // LogRecord.severity_text
	recordBody              = 5  // LogRecord.body
	recordAttributes        = 6  // LogRecord.attributes
	recordDroppedAttributes = 7  // LogRecord.dropped_attributes_count
	recordFlags             = 8  // LogRecord.flags
	recordTraceID           = 9  // LogRecord.trace_id
	recordSpanID            = 10 // LogRecord.span_id
	recordObserved          = 11 // LogRecord.observed_time_unix_nano
	recordEventName         = 12 // LogRecord.event_name
)

// LogRecord is what a request tells of one log record.
type LogRecord struct {
	Time, Observed time.Time
	EventName      string
	Severity       log.Severity
	SeverityText   string
	// Body is sent even when empty, as an AnyValue with no value, as the
	// SDK's exporter does.
	Body attribute.Value
	// Attributes are lists sent one after the other, so that a record
	// made of several (a rule's, an exec's) needs no list joining them.
	Attributes        [][]attribute.KeyValue
	DroppedAttributes int
	// TraceID and SpanID are sent when valid.
	TraceID trace.TraceID
	SpanID  trace.SpanID
	Flags   trace.TraceFlags
}

// AppendLogsRequest appends to dst the ExportLogsServiceRequest of recs,
// all of resource res (nil for none) and of scope, and returns the
// extended slice. It appends nothing when recs is empty: the SDK's
// exporters send no request then.
func AppendLogsRequest(dst []byte, res *resource.Resource, scope instrumentation.Scope, recs []LogRecord) []byte {
	if len(recs) == 0 {
		return dst
	}
	room := batchRoom(len(recs))
	b, rl := openMessageRoom(dst, requestResourceLogs, room)
	// Unlike the trace exporter, the log exporter leaves out an empty
	// resource.
	if res.Len() > 0 {
		b = appendResource(b, resourceLogsResource, res)
	}
	b, sl := openMessageRoom(b, resourceLogsScopeLogs, room)
	b = appendScope(b, scopeLogsScope, scope)
	for i := range recs {
		b = appendLogRecord(b, &recs[i])
	}
	b = appendString(b, scopeLogsSchemaURL, scope.SchemaURL)
	b = closeMessage(b, sl)
	b = appendString(b, resourceLogsSchemaURL, res.SchemaURL())
	return closeMessage(b, rl)
}

// appendLogRecord appends r as a ScopeLogs' log record.
func appendLogRecord(b []byte, r *LogRecord) []byte {
	b, start := openMessage(b, scopeLogsLogRecords)
	b = appendTime(b, recordTime, r.Time)
	b = appendVarint(b, recordSeverityNumber, severity(r.Severity))
	b = appendString(b, recordSeverityText, r.SeverityText)
	b = appendValue(b, recordBody, r.Body)
	for _, attrs := range r.Attributes {
		b = appendAttributes(b, recordAttributes, attrs)
	}
	b = appendVarint(b, recordDroppedAttributes, count(r.DroppedAttributes))
	b = appendFixed32(b, recordFlags, uint32(r.Flags))
	if r.TraceID.IsValid() {
		b = appendBytes(b, recordTraceID, r.TraceID[:])
	}
	if r.SpanID.IsValid() {
		b = appendBytes(b, recordSpanID, r.SpanID[:])
	}
	b = appendTime(b, recordObserved, r.Observed)
	b = appendString(b, recordEventName, r.EventName)
	return closeMessage(b, start)
}

// severity returns OTLP's severity number of s, whose values are the
// API's for every defined severity, and unspecified for any other.
func severity(s log.Severity) uint64 {
	if s < log.SeverityTrace1 || s > log.SeverityFatal4 {
		return 0
	}
	return uint64(s) // #nosec G115 -- between 1 and 24
}
