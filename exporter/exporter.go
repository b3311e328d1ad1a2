package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/detection"
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
}

// Exporter emits detections.
type Exporter struct {
	provider *sdklog.LoggerProvider
	logger   log.Logger
	// otlp is nil when OTLP export is off.
	otlp    *countingExporter
	emitted atomic.Uint64
	// metrics is nil when nothing reads vigil's own metrics: OTLP export
	// is off and there is no MetricReaders.
	metrics *sdkmetric.MeterProvider
	// traces, tracer, execSpans, spans and ended are nil when spans are
	// off.
	traces    *sdktrace.TracerProvider
	tracer    trace.Tracer
	execSpans *execSpans
	spans     *countingSpanExporter
	ended     *endedSpans
	shutdown  atomic.Bool

	// jsonl writes the JSON lines file; nil without one.
	jsonl *jsonlExporter

	// mu guards attrs, where Emit gathers a record's attributes.
	mu    sync.Mutex
	attrs []attribute.KeyValue
}

// New builds the exporter's resource and log pipeline.
func New(ctx context.Context, cfg Config) (_ *Exporter, err error) {
	res := newResource(ctx, cfg)
	// What is built before a failure is shut down, connections and all.
	var built []func(context.Context) error
	defer func() {
		if err != nil {
			for _, shutdown := range built {
				_ = shutdown(ctx)
			}
		}
	}()
	// The bridge comes first: it adds each detection to its span before the
	// exporters see the record. Records carry unique keys (package
	// describe builds them so): the SDK's check for duplicates, a map per
	// record, would only cost.
	opts := []sdklog.LoggerProviderOption{sdklog.WithResource(res), sdklog.WithAllowKeyDuplication(), sdklog.WithProcessor(spanEventBridge{})}
	e := &Exporter{}
	if cfg.OTLP {
		exp, err := otlploggrpc.New(ctx, otlpOptions(cfg.OTLPSettings.of(cfg.OTLPSettings.Logs), "LOGS", grpcOptions[otlploggrpc.Option]{
			otlploggrpc.WithEndpointURL, otlploggrpc.WithHeaders, otlploggrpc.WithInsecure,
			otlploggrpc.WithTimeout, otlploggrpc.WithCompressor, otlploggrpc.WithTLSCredentials,
		})...)
		if err != nil {
			return nil, fmt.Errorf("create OTLP log exporter: %w", err)
		}
		built = append(built, exp.Shutdown)
		e.otlp = &countingExporter{Exporter: exp}
		opts = append(opts, sdklog.WithProcessor(sdklog.NewBatchProcessor(e.otlp)))
		if e.metrics, err = newMeterProvider(ctx, cfg, res); err != nil {
			return nil, err
		}
		built = append(built, e.metrics.Shutdown)
		if cfg.Spans {
			if err := e.newTracerProvider(ctx, cfg, res); err != nil {
				return nil, err
			}
			e.tracer = e.traces.Tracer(scopeName, trace.WithInstrumentationVersion(cfg.ServiceVersion), trace.WithSchemaURL(semconv.SchemaURL))
		}
	}
	if e.metrics == nil && len(cfg.MetricReaders) > 0 {
		e.metrics = sdkmetric.NewMeterProvider(meterOptions(cfg, res)...)
	}
	// Local writers see each record as it is emitted, in order. The JSON
	// lines file is buffered; the report, in memory, needs not be.
	if cfg.JSONL != nil {
		e.jsonl = newJSONL(cfg.JSONL, true)
		opts = append(opts, sdklog.WithProcessor(sdklog.NewSimpleProcessor(e.jsonl)))
	}
	if cfg.Report != nil {
		opts = append(opts, sdklog.WithProcessor(sdklog.NewSimpleProcessor(newJSONL(cfg.Report, false))))
	}
	if cfg.Console != nil {
		opts = append(opts, sdklog.WithProcessor(sdklog.NewSimpleProcessor(newConsole(cfg.Console))))
	}
	e.provider = sdklog.NewLoggerProvider(opts...)
	e.logger = e.provider.Logger(scopeName, log.WithInstrumentationVersion(cfg.ServiceVersion), log.WithSchemaURL(semconv.SchemaURL))
	return e, nil
}

// Emit reports one detection. It does not block on the network. The
// record takes its trace and span id from ctx, and becomes an event of the
// span there when that one still records.
func (e *Exporter) Emit(ctx context.Context, d *detection.Record) error {
	if e.shutdown.Load() {
		return ErrShutdown
	}
	var rec log.Record
	rec.SetEventName(semconv.DetectionEventName)
	rec.SetTimestamp(d.Exec.Time)
	rec.SetObservedTimestamp(time.Now())
	rec.SetSeverity(d.Severity)
	rec.SetSeverityText(d.SeverityText)
	rec.SetBody(attribute.StringValue(d.Body))
	// One call: the record grows its list at each, a copy of it all. The
	// record copies them, so one list serves every detection.
	e.mu.Lock()
	e.attrs = append(append(append(e.attrs[:0], d.Rule...), d.Exec.Attributes...), d.Context...)
	rec.AddAttributes(e.attrs...)
	clear(e.attrs)
	e.mu.Unlock()
	e.logger.Emit(ctx, rec)
	e.emitted.Add(1)
	return nil
}

// Shutdown flushes every pending detection to its destinations and stops
// the exporter. Calling it again does nothing.
func (e *Exporter) Shutdown(ctx context.Context) error {
	if e.shutdown.Swap(true) {
		return nil
	}
	var errs []error
	if err := e.provider.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flush detections: %w", err))
	}
	// The provider reaches no processor once ctx is done: the lines that
	// wait in the buffer are written all the same, before the caller
	// closes the file.
	if e.jsonl != nil {
		if err := e.jsonl.ForceFlush(context.WithoutCancel(ctx)); err != nil {
			errs = append(errs, fmt.Errorf("flush JSON lines: %w", err))
		}
	}
	if e.traces != nil {
		if err := e.traces.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush spans: %w", err))
		}
	}
	if e.metrics != nil {
		if err := e.metrics.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush metrics: %w", err))
		}
	}
	return errors.Join(errs...)
}
