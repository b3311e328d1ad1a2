package exporter

// Self-metrics: the meter provider that vigil's own counters go through.

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/grpc/credentials"

	"github.com/vigil-otel/vigil/semconv"
)

// newMeterProvider exports vigil's own metrics over OTLP/gRPC, every
// minute unless OTEL_METRIC_EXPORT_INTERVAL says otherwise, and at
// shutdown.
func newMeterProvider(ctx context.Context, cfg Config, res *resource.Resource) (*sdkmetric.MeterProvider, error) {
	c, err := resolve(cfg.OTLPSettings.of(cfg.OTLPSettings.Metrics), "METRICS")
	if err != nil {
		return nil, err
	}
	// Every setting is given, so that the exporter reads no variable
	// vigil has not already read.
	opts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpoint(c.target), otlpmetricgrpc.WithTimeout(c.timeout)}
	if c.plain {
		opts = append(opts, otlpmetricgrpc.WithInsecure())
	} else {
		opts = append(opts, otlpmetricgrpc.WithTLSCredentials(credentials.NewTLS(c.tls)))
	}
	if c.headers != nil {
		opts = append(opts, otlpmetricgrpc.WithHeaders(c.headers))
	}
	if c.gzip {
		opts = append(opts, otlpmetricgrpc.WithCompressor("gzip"))
	}
	exp, err := otlpmetricgrpc.New(ctx, opts...)
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
