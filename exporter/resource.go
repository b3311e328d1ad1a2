package exporter

// Resource: what vigil says of itself on every signal.

import (
	"context"
	"log/slog"
	"maps"
	"os"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/semconv"
)

// newResource describes this vigil instance: the service, the host, what
// the detectors find, what OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
// add, and last what cfg says (the configuration file's
// resource_attributes and service_name), which therefore wins; every
// string redacted by cfg.Redactor. It never
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
	return redacted(res, cfg.Redactor)
}

// redacted returns res with every string, alone or in a slice, redacted
// by r; res itself when nothing changes.
func redacted(res *resource.Resource, r *redact.Redactor) *resource.Resource {
	if r == nil || res == nil {
		return res
	}
	attrs := res.Attributes()
	changed := false
	for i, kv := range attrs {
		switch kv.Value.Type() {
		case attribute.STRING:
			if s := r.String(kv.Value.AsString()); s != kv.Value.AsString() {
				attrs[i].Value, changed = attribute.StringValue(s), true
			}
		case attribute.STRINGSLICE:
			ss := kv.Value.AsStringSlice()
			for j, s := range ss {
				ss[j] = r.String(s)
			}
			if !slices.Equal(ss, kv.Value.AsStringSlice()) {
				attrs[i].Value, changed = attribute.StringSliceValue(ss), true
			}
		}
	}
	if !changed {
		return res
	}
	return resource.NewWithAttributes(res.SchemaURL(), attrs...)
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
