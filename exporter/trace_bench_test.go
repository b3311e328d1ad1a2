package exporter

import (
	"context"
	"syscall"
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
	ex := benchExec()
	b.ReportAllocs()
	for b.Loop() {
		exp.StartExec(benchParent, ex).End(trace.WithTimestamp(ex.Time))
	}
}

// BenchmarkExecSpanPaced ends an exec span every millisecond, as a CI
// job's execs come, rather than as fast as it can, by how long the spans
// queue waits for more (OTEL_BSP_SCHEDULE_DELAY): with none, each span
// is a request of its own. cpu-µs/span is the process's CPU time (the
// in-test sink's share of each request included) from the first span to
// the last one's delivery, by span; ns/op is mostly the pacing, whose own
// CPU the baseline, pacing alone, gives.
func BenchmarkExecSpanPaced(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		start := cpuTime(b)
		for b.Loop() {
			time.Sleep(time.Millisecond)
		}
		b.ReportMetric(float64((cpuTime(b)-start).Microseconds())/float64(b.N), "cpu-µs/span")
	})
	for _, delay := range []string{"0", "1000"} {
		b.Run("delay="+delay+"ms", func(b *testing.B) {
			rcv := otlptest.StartSink(b)
			b.Setenv("OTEL_BSP_SCHEDULE_DELAY", delay)
			exp, err := New(context.Background(), Config{OTLP: true, Spans: true, OTLPSettings: OTLPSettings{OTLPConnection: OTLPConnection{Endpoint: rcv.Endpoint}}})
			if err != nil {
				b.Fatal(err)
			}
			ex := benchExec()
			start := cpuTime(b)
			for b.Loop() {
				exp.StartExec(benchParent, ex).End(trace.WithTimestamp(ex.Time))
				time.Sleep(time.Millisecond)
			}
			if err := exp.Shutdown(context.Background()); err != nil {
				b.Fatal(err)
			}
			if got := exp.Stats().SpansExported; got != uint64(b.N) {
				b.Fatalf("%d spans exported of %d", got, b.N)
			}
			b.ReportMetric(float64((cpuTime(b)-start).Microseconds())/float64(b.N), "cpu-µs/span")
			b.ReportMetric(float64(rcv.Requests())/float64(b.N), "requests/span")
		})
	}
}

// cpuTime is the CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchParent is the context the benchmarks' spans are children of: a
// pipeline step's, sampled.
var benchParent = trace.NewSpanContext(trace.SpanContextConfig{
	TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true,
})

// benchExec describes a compiler run in a GitHub Actions job.
func benchExec() *detection.Exec {
	return &detection.Exec{SpanName: "exec gcc", Time: time.Now(), Attributes: []attribute.KeyValue{
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
}
