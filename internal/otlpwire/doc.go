// Package otlpwire appends OTLP export requests, of logs
// (ExportLogsServiceRequest) and of traces (ExportTraceServiceRequest), as
// protobuf bytes, and reads the partial success of their responses.
//
// The bytes are those proto.Marshal gives with Deterministic set: fields
// in the order of their numbers, the shortest varints, zero scalars left
// out. The mapping from the SDK's data to OTLP is that of the OpenTelemetry
// Go SDK's exporters (otlptrace v1.47.0, otlploggrpc v0.23.0), field for
// field, with one difference: a string that is not valid UTF-8, which
// proto.Marshal refuses and with it the whole batch, has each run of
// invalid bytes replaced by U+FFFD, as [strings.ToValidUTF8] does.
//
// A request holds one resource and one instrumentation scope, which is
// all vigil has of each signal. Encoding allocates nothing once dst has
// room, except where the attribute package copies a slice value out of an
// attribute (slices, maps, bytes) and for a string that is not UTF-8.
//
// The package does no I/O and starts no goroutine: its callers queue,
// store and send the bytes as they are.
package otlpwire
