package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/delivery"
	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/internal/otlpwire"
	"github.com/vigil-otel/vigil/internal/outqueue"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/semconv"
)

// scopeName is the instrumentation scope of vigil's records.
const scopeName = "github.com/vigil-otel/vigil"

// ErrShutdown is returned by Emit after Shutdown.
var ErrShutdown = errors.New("exporter is shut down")

// Config says where detections go. Any combination may be on.
type Config struct {
	// OTLP exports over OTLP/gRPC, configured by the OTEL_* variables.
	OTLP bool
	// OTLPSettings override what the environment says of the endpoints
	// and their connections; what they leave empty, the
	// OTEL_EXPORTER_OTLP_* variables decide.
	OTLPSettings OTLPSettings
	// JSONL, when set, receives one JSON object per detection.
	JSONL io.Writer
	// Report, when set, receives the same JSON lines as JSONL, on its own:
	// a run's report (package report) is built from them.
	Report io.Writer
	// Console, when set, receives one readable line per detection.
	Console io.Writer
	// ServiceVersion is vigil's version, for the resource.
	ServiceVersion string
	// Detectors add to the resource what they find: the CI job and the
	// container vigil itself runs in, say.
	Detectors []resource.Detector
	// Redactor, when set, redacts every string of the resource, as it
	// does what processes control: vigil's own environment
	// (OTEL_RESOURCE_ATTRIBUTES, the CI job's variables) may hold
	// credentials too.
	Redactor *redact.Redactor
	// Spans exports spans over OTLP/gRPC beside the detections; without
	// OTLP there are none. Which processes get one is package spans'
	// decision.
	Spans bool
	// ServiceName, when set, names the service on the resource, over
	// OTEL_SERVICE_NAME and ResourceAttributes.
	ServiceName string
	// ResourceAttributes are added to the resource over what the detectors
	// find and what OTEL_RESOURCE_ATTRIBUTES says.
	ResourceAttributes map[string]string
	// MetricReaders also read vigil's own metrics, with or without OTLP:
	// a Prometheus exporter that a scraper pulls, say.
	MetricReaders []sdkmetric.Reader
	// Delivery bounds what vigil keeps for an OTLP receiver that does not
	// take it: in memory, then on disk.
	Delivery Delivery
}

// Delivery says where and how much vigil keeps of what an OTLP receiver
// has not taken yet; zero values take package delivery's defaults.
type Delivery struct {
	// StateDir holds the spool, a folder per signal; empty keeps nothing
	// on disk.
	StateDir string
	// MemoryBytes bounds each signal's requests in memory, DiskBytes its
	// spool.
	MemoryBytes, DiskBytes int64
	// SpoolOptional has a spool that cannot be opened (another vigil
	// holds it, say) leave vigil without one, said in a warning, rather
	// than stop it: for a state directory nobody asked for.
	SpoolOptional bool
}

// Exporter emits detections.
type Exporter struct {
	shutdown atomic.Bool
	emitted  atomic.Uint64

	// otlpLogs batches detections into requests that logSender
	// delivers; otlpSpans and spanSender do the same for spans. They are
	// nil when OTLP export, or spans, are off.
	otlpLogs   *outqueue.Queue[record]
	logSender  *sender
	otlpSpans  *outqueue.Queue[otlpwire.Span]
	spanSender *sender
	// jsonl, report and console are nil when they are not asked for.
	jsonl, report, console *outqueue.Queue[record]
	// metrics is nil when nothing reads vigil's own metrics: OTLP export
	// is off and there is no MetricReaders.
	metrics *sdkmetric.MeterProvider
	// traces, tracer and execSpans are nil when spans are off.
	traces    *sdktrace.TracerProvider
	tracer    trace.Tracer
	execSpans *execSpans
}

// Sizes of the outputs' buffers, in detections. The report is built from
// its own: a run's verdict must see every detection.
const (
	outputBuffer = 4096
	reportBuffer = 64 << 10
)

// New builds the exporter's resource and outputs.
func New(ctx context.Context, cfg Config) (_ *Exporter, err error) {
	delay, err := spanDelay()
	if err != nil {
		return nil, err
	}
	res := newResource(ctx, cfg)
	e := &Exporter{}
	// What is built before a failure is shut down, connections and all.
	defer func() {
		if err != nil {
			_ = e.Shutdown(ctx)
		}
	}()
	log := slog.Default()
	if cfg.OTLP {
		scope := instrumentation.Scope{Name: scopeName, Version: cfg.ServiceVersion, SchemaURL: semconv.SchemaURL}
		if e.logSender, err = newSender(cfg, delivery.Logs, log); err != nil {
			return nil, err
		}
		e.otlpLogs = outqueue.New("OTLP logs", outputBuffer, 0, log, logEncoder(res, scope, e.logSender))
		if e.metrics, err = newMeterProvider(ctx, cfg, res); err != nil {
			return nil, err
		}
		if cfg.Spans {
			if e.spanSender, err = newSender(cfg, delivery.Traces, log); err != nil {
				return nil, err
			}
			e.otlpSpans = outqueue.New("OTLP spans", outputBuffer, delay, log, spanEncoder(res, scope, e.spanSender))
			e.newTracerProvider(cfg, res)
		}
	}
	if e.metrics == nil && len(cfg.MetricReaders) > 0 {
		e.metrics = sdkmetric.NewMeterProvider(meterOptions(cfg, res)...)
	}
	if cfg.JSONL != nil {
		e.jsonl = outqueue.New("JSON lines", outputBuffer, 0, log, newJSONL(cfg.JSONL).write)
	}
	if cfg.Report != nil {
		e.report = outqueue.New("report", reportBuffer, 0, log, newJSONL(cfg.Report).write)
	}
	if cfg.Console != nil {
		e.console = outqueue.New("console", outputBuffer, 0, log, newConsole(cfg.Console).write)
	}
	return e, nil
}

// Emit reports one detection. It blocks on no output: each takes it from
// a buffer of its own. The record takes its trace and span id from ctx,
// and becomes an event of the span there when that one still records.
func (e *Exporter) Emit(ctx context.Context, d *detection.Record) error {
	span := trace.SpanFromContext(ctx)
	sc := span.SpanContext()
	r := record{Record: d, observed: time.Now(), traceID: sc.TraceID(), spanID: sc.SpanID(), flags: sc.TraceFlags()}
	if e.shutdown.Load() {
		return ErrShutdown
	}
	if span.IsRecording() {
		addDetection(span, d)
	}
	for _, q := range []*outqueue.Queue[record]{e.otlpLogs, e.jsonl, e.report, e.console} {
		if q != nil {
			q.Offer(r)
		}
	}
	e.emitted.Add(1)
	return nil
}

// Shutdown writes and sends every pending detection and span while ctx
// lasts, keeps in the spool what could not be sent, and stops the
// exporter. Calling it again does nothing.
func (e *Exporter) Shutdown(ctx context.Context) error {
	if e.shutdown.Swap(true) {
		return nil
	}
	var errs []error
	if e.traces != nil {
		// The run span, if it is still open, ends; its processor hands it
		// on at once.
		if err := e.traces.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("end spans: %w", err))
		}
	}
	// Each output ends on its own, at once: one stuck in a write must not
	// spend the time of the others.
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	each := func(stop func() error) {
		wg.Go(func() {
			if err := stop(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	for _, q := range []*outqueue.Queue[record]{e.jsonl, e.report, e.console} {
		if q != nil {
			each(func() error {
				if err := q.Close(ctx); err != nil {
					return fmt.Errorf("write %s: %w", q.Name, err)
				}
				return nil
			})
		}
	}
	// What the OTLP queues held goes to the outboxes, which deliver it
	// while ctx lasts and keep the rest.
	if e.otlpLogs != nil {
		each(func() error {
			if err := e.otlpLogs.Close(ctx); err != nil {
				return errors.Join(fmt.Errorf("encode detections: %w", err), e.logSender.close(ctx))
			}
			return e.logSender.close(ctx)
		})
	}
	if e.otlpSpans != nil {
		each(func() error {
			if err := e.otlpSpans.Close(ctx); err != nil {
				return errors.Join(fmt.Errorf("encode spans: %w", err), e.spanSender.close(ctx))
			}
			return e.spanSender.close(ctx)
		})
	}
	if e.metrics != nil {
		each(func() error {
			if err := e.metrics.Shutdown(ctx); err != nil {
				return fmt.Errorf("flush metrics: %w", err)
			}
			return nil
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
