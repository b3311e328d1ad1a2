// Package exporter sets OpenTelemetry up and sends what vigil reports:
// each detection record (package detection, built by package describe) is
// one log record, an Event named [semconv.DetectionEventName], emitted
// through the OpenTelemetry logs SDK. The SDK fans it out to the OTLP/gRPC
// exporter and to the local writers (JSON lines, console), so that every
// output carries the very same record; a bridge makes it an event of its
// span too. Exec spans are recorded here and exported by the SDK's
// processors. The exporter knows none of vigil's stages: it sends the
// records it is given.
//
// OTLP export follows the standard environment variables of the OTLP
// exporter, most specific first:
//
//	OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT
//	OTEL_EXPORTER_OTLP_LOGS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS
//	OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT
//	OTEL_EXPORTER_OTLP_LOGS_INSECURE, OTEL_EXPORTER_OTLP_INSECURE
//	OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE, OTEL_EXPORTER_OTLP_CERTIFICATE
//	OTEL_EXPORTER_OTLP_LOGS_COMPRESSION, OTEL_EXPORTER_OTLP_COMPRESSION
//
// and the resource follows OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
package exporter
