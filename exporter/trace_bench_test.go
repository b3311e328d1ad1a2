package exporter

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/semconv"
)

// BenchmarkExecSpan is what a traced exec costs the exporter once it is
// described: its span started with the exec's attributes (those of a
// compiler in a GitHub Actions job), ended, batched and exported.
func BenchmarkExecSpan(b *testing.B) {
	rcv := otlptest.StartSink(b)
	exp, err := New(context.Background(), Config{OTLP: true, Spans: true, OTLPSettings: OTLPSettings{OTLPConnection: OTLPConnection{Endpoint: rcv.Endpoint}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	ex := &detection.Exec{SpanName: "exec gcc", Time: time.Now(), Attributes: []attribute.KeyValue{
		semconv.ProcessPIDKey.Int64(4242),
		semconv.ProcessParentPIDKey.Int64(4200),
		semconv.ProcessExecutablePathKey.String("/usr/bin/gcc"),
		semconv.ProcessExecutableNameKey.String("gcc"),
		semconv.ProcessCommandArgsKey.StringSlice([]string{"gcc", "-O2", "-c", "src/main.c", "-o", "obj/main.o"}),
		semconv.ProcessUserIDKey.Int64(1001),
		semconv.ProcessRealUserIDKey.Int64(1001),
		semconv.ProcessWorkingDirectoryKey.String("/home/runner/work/app/app"),
		semconv.ProcessInteractiveKey.Bool(false),
		semconv.CISystemKey.String("github_actions"),
		semconv.CICDPipelineNameKey.String("ci"),
		semconv.CICDPipelineRunIDKey.String("9876543210"),
		semconv.CICDPipelineTaskNameKey.String("test"),
		semconv.VCSRepositoryURLFullKey.String("https://github.com/acme/app"),
		semconv.VCSRefHeadRevisionKey.String("0123456789abcdef0123456789abcdef01234567"),
	}}
	b.ReportAllocs()
	for b.Loop() {
		exp.StartExec(parent, ex).End(trace.WithTimestamp(ex.Time))
	}
}
