package exporter

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/credentials"

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

// OTLPConnection is how to reach an OTLP receiver. Each field set
// overrides the OTEL_EXPORTER_OTLP_* variables of its meaning, the
// per-signal ones included; each one left empty leaves them in charge.
//
// The yaml names are those of vigil's configuration file (package config).
type OTLPConnection struct {
	// Endpoint is the receiver's URL: "http://host:4317" for plain text,
	// "https://..." for TLS.
	Endpoint string `yaml:"endpoint"`
	// Headers are sent with each export request.
	Headers map[string]string `yaml:"headers"`
	// Insecure, when set, overrides OTEL_EXPORTER_OTLP_INSECURE: true
	// forces plain text, whatever the endpoint's scheme; false has an
	// endpoint without a scheme use TLS (an http:// one stays plain text).
	Insecure *bool `yaml:"insecure"`
	// Timeout bounds each export request.
	Timeout time.Duration `yaml:"timeout"`
	// Compression is "gzip" or "none".
	Compression string `yaml:"compression"`
	// TLS, when set, secures the connections: the CAs that verify the
	// receiver, vigil's own certificate for mutual TLS.
	TLS *tls.Config `yaml:"-"`
}

// OTLPSettings are the OTLP exporters' settings: those of every signal,
// and what differs for one.
type OTLPSettings struct {
	OTLPConnection
	// Logs (detections), Traces (spans) and Metrics (vigil's own)
	// override the settings of every signal for theirs, field by field.
	Logs, Traces, Metrics OTLPConnection
}

// of returns the settings of a signal whose own are sig: each of its
// fields, else the same field of every signal's.
func (s OTLPSettings) of(sig OTLPConnection) OTLPConnection {
	all := s.OTLPConnection
	sig.Endpoint = cmp.Or(sig.Endpoint, all.Endpoint)
	if sig.Headers == nil {
		sig.Headers = all.Headers
	}
	sig.Insecure = cmp.Or(sig.Insecure, all.Insecure)
	sig.Timeout = cmp.Or(sig.Timeout, all.Timeout)
	sig.Compression = cmp.Or(sig.Compression, all.Compression)
	sig.TLS = cmp.Or(sig.TLS, all.TLS)
	return sig
}

// grpcOptions are the option constructors of one OTLP/gRPC exporter
// package; the three packages have the same ones, of different types.
type grpcOptions[O any] struct {
	endpointURL func(string) O
	headers     func(map[string]string) O
	insecure    func() O
	timeout     func(time.Duration) O
	compressor  func(string) O
	credentials func(credentials.TransportCredentials) O
}

// otlpOptions turns the settings of one signal into the options of its
// exporter; signal names it in the variables (LOGS, TRACES, METRICS).
// Options are applied in order: insecure comes after the endpoint, whose
// scheme would otherwise decide.
func otlpOptions[O any](s OTLPConnection, signal string, with grpcOptions[O]) []O {
	var opts []O
	if s.Endpoint != "" {
		opts = append(opts, with.endpointURL(s.Endpoint))
	} else if u := envEndpointWithoutScheme(signal, s.Insecure); u != "" {
		opts = append(opts, with.endpointURL(u))
	}
	if s.Insecure != nil && *s.Insecure {
		opts = append(opts, with.insecure())
	}
	if s.Headers != nil {
		opts = append(opts, with.headers(s.Headers))
	}
	if s.Timeout > 0 {
		opts = append(opts, with.timeout(s.Timeout))
	}
	if s.Compression != "" {
		opts = append(opts, with.compressor(s.Compression))
	}
	if s.TLS != nil {
		opts = append(opts, with.credentials(credentials.NewTLS(s.TLS)))
	}
	return opts
}

// envEndpointWithoutScheme returns, as a URL, the endpoint the
// environment names for signal when it names one without a scheme
// (collector:4317): the specification has OTEL_EXPORTER_OTLP_INSECURE
// choose plain text (http://) or TLS (https://, the default) for those,
// which the exporters do not do themselves. It returns "" when the
// endpoint has a scheme, or there is none, and the exporters read it.
// insecure, when set, is said elsewhere and beats the variables.
func envEndpointWithoutScheme(signal string, insecure *bool) string {
	first := func(names ...string) string {
		for _, name := range names {
			if v := os.Getenv(name); v != "" {
				return v
			}
		}
		return ""
	}
	prefix := "OTEL_EXPORTER_OTLP_"
	endpoint := first(prefix+signal+"_ENDPOINT", prefix+"ENDPOINT")
	if endpoint == "" || strings.Contains(endpoint, "://") {
		return ""
	}
	plain := strings.EqualFold(first(prefix+signal+"_INSECURE", prefix+"INSECURE"), "true")
	if insecure != nil {
		plain = *insecure
	}
	scheme := "https://"
	if plain {
		scheme = "http://"
	}
	return scheme + strings.TrimPrefix(endpoint, "//")
}

// OTLPFromEnv says whether the environment names an OTLP endpoint, for
// all signals or for one, which turns OTLP export on.
func OTLPFromEnv() bool {
	for _, name := range []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
	} {
		if os.Getenv(name) != "" {
			return true
		}
	}
	return false
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
	// exporters see the record.
	// Records carry unique keys (package describe builds them so): the
	// SDK's check for duplicates, a map per record, would only cost.
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
	// Local writers see each record as it is emitted, in order.
	for _, w := range []io.Writer{cfg.JSONL, cfg.Report} {
		if w != nil {
			opts = append(opts, sdklog.WithProcessor(sdklog.NewSimpleProcessor(newJSONL(w))))
		}
	}
	if cfg.Console != nil {
		opts = append(opts, sdklog.WithProcessor(sdklog.NewSimpleProcessor(newConsole(cfg.Console))))
	}
	e.provider = sdklog.NewLoggerProvider(opts...)
	e.logger = e.provider.Logger(scopeName, log.WithInstrumentationVersion(cfg.ServiceVersion), log.WithSchemaURL(semconv.SchemaURL))
	return e, nil
}

// newMeterProvider exports vigil's own metrics over OTLP/gRPC, every
// minute unless OTEL_METRIC_EXPORT_INTERVAL says otherwise, and at
// shutdown.
func newMeterProvider(ctx context.Context, cfg Config, res *resource.Resource) (*sdkmetric.MeterProvider, error) {
	exp, err := otlpmetricgrpc.New(ctx, otlpOptions(cfg.OTLPSettings.of(cfg.OTLPSettings.Metrics), "METRICS", grpcOptions[otlpmetricgrpc.Option]{
		otlpmetricgrpc.WithEndpointURL, otlpmetricgrpc.WithHeaders, otlpmetricgrpc.WithInsecure,
		otlpmetricgrpc.WithTimeout, otlpmetricgrpc.WithCompressor, otlpmetricgrpc.WithTLSCredentials,
	})...)
	if err != nil {
		return nil, fmt.Errorf("create OTLP metric exporter: %w", err)
	}
	return sdkmetric.NewMeterProvider(append(meterOptions(cfg, res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))...), nil
}

// meterOptions are the meter provider's resource and the readers cfg
// adds.
func meterOptions(cfg Config, res *resource.Resource) []sdkmetric.Option {
	opts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	for _, r := range cfg.MetricReaders {
		opts = append(opts, sdkmetric.WithReader(r))
	}
	return opts
}

// Meter returns the meter of vigil's own metrics, a no-op one when
// nothing reads them.
func (e *Exporter) Meter() metric.Meter {
	if e.metrics == nil {
		return noop.NewMeterProvider().Meter(scopeName)
	}
	return e.metrics.Meter(scopeName, metric.WithSchemaURL(semconv.SchemaURL))
}

// newTracerProvider exports spans over OTLP/gRPC, batched, keeping the
// sampling decision of the trace each process continues, and counts what
// it loses.
func (e *Exporter) newTracerProvider(ctx context.Context, cfg Config, res *resource.Resource) error {
	exp, err := otlptracegrpc.New(ctx, otlpOptions(cfg.OTLPSettings.of(cfg.OTLPSettings.Traces), "TRACES", grpcOptions[otlptracegrpc.Option]{
		otlptracegrpc.WithEndpointURL, otlptracegrpc.WithHeaders, otlptracegrpc.WithInsecure,
		otlptracegrpc.WithTimeout, otlptracegrpc.WithCompressor, otlptracegrpc.WithTLSCredentials,
	})...)
	if err != nil {
		return fmt.Errorf("create OTLP trace exporter: %w", err)
	}
	e.spans, e.ended = &countingSpanExporter{SpanExporter: exp}, &endedSpans{}
	batcher := sdktrace.NewBatchSpanProcessor(e.spans)
	e.traces = sdktrace.NewTracerProvider(sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(e.ended), sdktrace.WithSpanProcessor(batcher))
	e.execSpans = &execSpans{
		provider:   e.traces,
		resource:   res,
		scope:      instrumentation.Scope{Name: scopeName, Version: cfg.ServiceVersion, SchemaURL: semconv.SchemaURL},
		processors: []sdktrace.SpanProcessor{e.ended, batcher},
	}
	return nil
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
	rec.AddAttributes(d.Rule...)
	rec.AddAttributes(d.Exec.Attributes...)
	rec.AddAttributes(d.Context...)
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

// newResource describes this vigil instance: the service, the host, what
// the detectors find, what OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
// add, and last what cfg says (the configuration file's
// resource_attributes and service_name), which therefore wins. It never
// fails: a detail the machine does not have (no /etc/machine-id in a
// minimal VM or container image, no host name, no os-release) leaves its
// attribute out with one warning, and the resource holds the rest. A
// security sensor must not stay blind for want of a label.
func newResource(ctx context.Context, cfg Config) *resource.Resource {
	attrs := []attribute.KeyValue{
		semconv.ServiceNameKey.String("vigil"),
		semconv.ServiceVersionKey.String(cfg.ServiceVersion),
	}
	if host, err := os.Hostname(); err != nil {
		slog.Warn("host name unknown: host.name left out of the resource", "error", err)
	} else {
		attrs = append(attrs, semconv.HostNameKey.String(host))
	}
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(attrs...),
		resource.WithOS(),
		resource.WithHostID(),
		resource.WithTelemetrySDK(),
		resource.WithDetectors(cfg.Detectors...),
		resource.WithFromEnv(),
		resource.WithAttributes(configured(cfg)...),
	)
	if err != nil {
		// resource.New merges what every other detector found.
		slog.Warn("part of the resource is unknown and left out", "error", err)
	}
	return res
}

// configured returns the resource attributes cfg names, service_name
// last so that it beats a service.name among them, as OTEL_SERVICE_NAME
// beats OTEL_RESOURCE_ATTRIBUTES.
func configured(cfg Config) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, len(cfg.ResourceAttributes)+1)
	for _, k := range slices.Sorted(maps.Keys(cfg.ResourceAttributes)) {
		attrs = append(attrs, attribute.String(k, cfg.ResourceAttributes[k]))
	}
	if cfg.ServiceName != "" {
		attrs = append(attrs, semconv.ServiceNameKey.String(cfg.ServiceName))
	}
	return attrs
}
