// Package exporter sets OpenTelemetry up and sends what vigil reports.
//
// Each detection record (package detection, built by package describe) is
// handed to every output asked for, each fed from a bounded queue of its
// own (package outqueue) so that none holds up the reader of the kernel's
// events: OTLP, where it is one log record, an Event named
// [semconv.DetectionEventName]; the JSON lines file; the run's report; the
// console. Every output carries the very same record, and the record
// becomes an event of its exec's span too.
//
// OTLP requests are encoded by vigil itself (package otlpwire), once, and
// kept by an outbox per signal (package delivery) until the receiver takes
// them: in memory, then in a spool on disk, across an outage and a
// restart. Exec spans are recorded here and go the same way; vigil's own
// metrics go through the SDK's metric exporter.
//
// The connection of each signal follows vigil's settings, then the
// standard environment variables, most specific first, read once, at
// start (connection.go):
//
//	OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT
//	OTEL_EXPORTER_OTLP_LOGS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS
//	OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT
//	OTEL_EXPORTER_OTLP_LOGS_INSECURE, OTEL_EXPORTER_OTLP_INSECURE
//	OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE, OTEL_EXPORTER_OTLP_CERTIFICATE
//	OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE
//	OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY, OTEL_EXPORTER_OTLP_CLIENT_KEY
//	OTEL_EXPORTER_OTLP_LOGS_COMPRESSION, OTEL_EXPORTER_OTLP_COMPRESSION
//
// (TRACES and METRICS in place of LOGS for the other signals), and the
// resource follows OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. The
// exporter knows none of vigil's stages: it sends the records it is given.
package exporter
