package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/vigil-otel/vigil/delivery"
	"github.com/vigil-otel/vigil/internal/otlpwire"
	"github.com/vigil-otel/vigil/semconv"
)

// sender delivers one signal's requests: its outbox keeps each one, in
// memory and past a bound on disk, until its transport has sent it.
type sender struct {
	signal    delivery.Signal
	transport *transport
	outbox    *delivery.Outbox
}

// newSender connects the signal's transport as cfg and the environment
// say, and opens its outbox, whose spool, if any, is replayed first.
func newSender(cfg Config, signal delivery.Signal, log *slog.Logger) (*sender, error) {
	settings, name, method := cfg.OTLPSettings.Logs, "LOGS", logsMethod
	if signal == delivery.Traces {
		settings, name, method = cfg.OTLPSettings.Traces, "TRACES", tracesMethod
	}
	c, err := resolve(cfg.OTLPSettings.of(settings), name)
	if err != nil {
		return nil, err
	}
	t, err := dial(c, method, "vigil/"+cfg.ServiceVersion, log)
	if err != nil {
		return nil, fmt.Errorf("OTLP %s: %w", signal, err)
	}
	dc := delivery.Config{MemoryBytes: cfg.Delivery.MemoryBytes, DiskBytes: cfg.Delivery.DiskBytes, Logger: log}
	if cfg.Delivery.StateDir != "" {
		dc.Dir = filepath.Join(cfg.Delivery.StateDir, signal.String())
	}
	ob, err := delivery.Open(dc, t)
	if err != nil && cfg.Delivery.SpoolOptional {
		// Another vigil holds the default spool, say: this one keeps
		// what waits in memory, as a watched command's vigil does.
		log.Warn("the spool cannot be used: what the receiver has not taken is kept in memory only", "signal", signal.String(), "error", err)
		dc.Dir = ""
		ob, err = delivery.Open(dc, t)
	}
	if err != nil {
		_ = t.close()
		return nil, fmt.Errorf("OTLP %s: %w", signal, err)
	}
	return &sender{signal: signal, transport: t, outbox: ob}, nil
}

// put hands the outbox one encoded request of n items.
func (s *sender) put(n int, body []byte) {
	s.outbox.Put(delivery.Request{Signal: s.signal, Items: n, Body: body})
}

// close delivers what waits while ctx lasts, keeps the rest in the
// spool, and closes the connection.
func (s *sender) close(ctx context.Context) error {
	var errs []error
	if err := s.outbox.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("deliver %s: %w", s.signal, err))
	}
	if err := s.transport.close(); err != nil {
		errs = append(errs, fmt.Errorf("close the %s connection: %w", s.signal, err))
	}
	return errors.Join(errs...)
}

// logEncoder returns the writer of the OTLP logs queue: each batch of
// detections becomes one request, handed to s.
func logEncoder(res *resource.Resource, scope instrumentation.Scope, s *sender) func([]record) error {
	var recs []otlpwire.LogRecord
	var per sizeHint
	return func(batch []record) error {
		for i := range batch {
			r := &batch[i]
			recs = append(recs, otlpwire.LogRecord{
				Time: r.Exec.Time, Observed: r.observed, EventName: semconv.DetectionEventName,
				Severity: r.Severity, SeverityText: r.SeverityText, Body: attribute.StringValue(r.Body),
				Attributes: [][]attribute.KeyValue{r.Rule, r.Exec.Attributes, r.Exec.Job, r.Context},
				TraceID:    r.traceID, SpanID: r.spanID, Flags: r.flags,
			})
		}
		s.put(len(recs), per.record(len(recs), otlpwire.AppendLogsRequest(per.buffer(len(recs)), res, scope, recs)))
		clear(recs)
		recs = recs[:0]
		return nil
	}
}

// spanEncoder returns the writer of the OTLP spans queue: each batch of
// spans becomes one request, handed to s.
func spanEncoder(res *resource.Resource, scope instrumentation.Scope, s *sender) func([]otlpwire.Span) error {
	var per sizeHint
	return func(batch []otlpwire.Span) error {
		s.put(len(batch), per.record(len(batch), otlpwire.AppendTracesRequest(per.buffer(len(batch)), res, scope, batch)))
		return nil
	}
}

// sizeHint sizes a request's buffer by the last one's bytes per item, so
// that encoding it seldom grows the buffer: each growth copies it all.
type sizeHint struct{ perItem int }

// buffer returns an empty buffer for a request of n items.
func (h *sizeHint) buffer(n int) []byte {
	return make([]byte, 0, max(h.perItem, 256)*n+256)
}

// record notes the size of body, a request of n items, and returns it.
func (h *sizeHint) record(n int, body []byte) []byte {
	h.perItem = len(body)/n + len(body)/n/8
	return body
}
