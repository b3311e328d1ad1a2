package exporter

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/detection"
)

// record is a detection as every output takes it: the record, the span it
// belongs to, and when vigil made it. It points to the record, shared and
// read-only, rather than copying it.
type record struct {
	*detection.Record
	observed time.Time
	traceID  trace.TraceID
	spanID   trace.SpanID
	flags    trace.TraceFlags
}

// attributes are the record's, in order: the recipe's, the exec's, its
// job's, the detection's own.
func (r *record) attributes() [4][]attribute.KeyValue {
	return [4][]attribute.KeyValue{r.Rule, r.Exec.Attributes, r.Exec.Job, r.Context}
}
