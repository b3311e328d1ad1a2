package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

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
	// OTLPEndpoint, when set, overrides the endpoint from the environment
	// ("http://host:4317" for plain text, "https://..." for TLS).
	OTLPEndpoint string
	// JSONL, when set, receives one JSON object per detection.
	JSONL io.Writer
	// Console, when set, receives one readable line per detection.
	Console io.Writer
	// ServiceVersion is vigil's version, for the resource.
	ServiceVersion string
}

// OTLPFromEnv says whether the environment names an OTLP endpoint for
// logs, which turns OTLP export on.
func OTLPFromEnv() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
}

// Exporter emits detections.
type Exporter struct {
	provider *sdklog.LoggerProvider
	logger   log.Logger
	shutdown atomic.Bool
}

// New builds the exporter's resource and log pipeline.
func New(ctx context.Context, cfg Config) (*Exporter, error) {
	res, err := newResource(ctx, cfg.ServiceVersion)
	if err != nil {
		return nil, err
	}
	opts := []sdklog.LoggerProviderOption{sdklog.WithResource(res)}
	if cfg.OTLP {
		var grpcOpts []otlploggrpc.Option
		if cfg.OTLPEndpoint != "" {
			grpcOpts = append(grpcOpts, otlploggrpc.WithEndpointURL(cfg.OTLPEndpoint))
		}
		exp, err := otlploggrpc.New(ctx, grpcOpts...)
		if err != nil {
			return nil, fmt.Errorf("create OTLP log exporter: %w", err)
		}
		opts = append(opts, sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	}
	// Local writers see each record as it is emitted, in order.
	if cfg.JSONL != nil {
		opts = append(opts, sdklog.WithProcessor(sdklog.NewSimpleProcessor(newJSONL(cfg.JSONL))))
	}
	if cfg.Console != nil {
		opts = append(opts, sdklog.WithProcessor(sdklog.NewSimpleProcessor(newConsole(cfg.Console))))
	}
	provider := sdklog.NewLoggerProvider(opts...)
	return &Exporter{
		provider: provider,
		logger:   provider.Logger(scopeName, log.WithInstrumentationVersion(cfg.ServiceVersion), log.WithSchemaURL(semconv.SchemaURL)),
	}, nil
}

// Emit reports one detection. It does not block on the network.
func (e *Exporter) Emit(ctx context.Context, d *detection.Detection) error {
	if e.shutdown.Load() {
		return ErrShutdown
	}
	rec := newRecord(d)
	rec.SetObservedTimestamp(time.Now())
	e.logger.Emit(ctx, rec)
	return nil
}

// Shutdown flushes every pending detection to its destinations and stops
// the exporter. Calling it again does nothing.
func (e *Exporter) Shutdown(ctx context.Context) error {
	if e.shutdown.Swap(true) {
		return nil
	}
	if err := e.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("flush detections: %w", err)
	}
	return nil
}

// newResource describes this vigil instance: the service, the host, and
// what OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES add.
func newResource(ctx context.Context, version string) (*resource.Resource, error) {
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("read host name: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(
			semconv.ServiceNameKey.String("vigil"),
			semconv.ServiceVersionKey.String(version),
			semconv.HostNameKey.String(host),
		),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("build resource: %w", err)
	}
	return res, nil
}
