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

	"github.com/vigil-otel/vigil/semconv"
)

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
