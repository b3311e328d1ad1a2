package exporter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// jsonlExporter writes each record as one JSON object on its own line:
// the record's attributes under their own keys, flat, beside its fields.
type jsonlExporter struct {
	mu  sync.Mutex
	enc *json.Encoder
}

var _ sdklog.Exporter = (*jsonlExporter)(nil)

func newJSONL(w io.Writer) *jsonlExporter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonlExporter{enc: enc}
}

// Export writes records in order.
func (e *jsonlExporter) Export(_ context.Context, records []sdklog.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range records {
		if err := e.enc.Encode(jsonObject(&records[i])); err != nil {
			return fmt.Errorf("write JSON line: %w", err)
		}
	}
	return nil
}

// jsonObject flattens a record. The fields vigil adds do not collide with
// attribute keys, which always hold a dot.
func jsonObject(r *sdklog.Record) map[string]any {
	obj := map[string]any{
		"time":            r.Timestamp().UTC().Format(time.RFC3339Nano),
		"event_name":      r.EventName(),
		"severity_number": int(r.Severity()),
		"severity_text":   r.SeverityText(),
		"body":            r.Body().AsString(),
		"trace_id":        "",
		"span_id":         "",
	}
	if tid := r.TraceID(); tid.IsValid() {
		obj["trace_id"] = tid.String()
	}
	if sid := r.SpanID(); sid.IsValid() {
		obj["span_id"] = sid.String()
	}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		obj[string(kv.Key)] = kv.Value.AsInterface()
		return true
	})
	return obj
}

// Shutdown does nothing: the writer belongs to the caller.
func (e *jsonlExporter) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing: every line is written at once.
func (e *jsonlExporter) ForceFlush(context.Context) error { return nil }
