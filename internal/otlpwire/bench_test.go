package otlpwire_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/vigil-otel/vigil/internal/otlpwire"
	"github.com/vigil-otel/vigil/semconv"
)

// batch is the number of spans or records of each benchmark's request:
// the SDK's batch processors' default.
const batch = 512

// execAttrs are the attributes of a compiler's exec in a GitHub Actions
// job, as vigil describes it: 30 of them.
func execAttrs() []attribute.KeyValue {
	return []attribute.KeyValue{
		semconv.ProcessPIDKey.Int64(4242), semconv.ProcessParentPIDKey.Int64(4200),
		semconv.ProcessExecutablePathKey.String("/usr/bin/gcc"), semconv.ProcessExecutableNameKey.String("gcc"),
		semconv.ProcessCommandArgsKey.StringSlice([]string{"gcc", "-O2", "-c", "src/main.c", "-o", "obj/main.o"}),
		semconv.ProcessUserIDKey.Int64(1001), semconv.ProcessRealUserIDKey.Int64(1001),
		semconv.ProcessWorkingDirectoryKey.String("/home/runner/work/app/app"), semconv.ProcessInteractiveKey.Bool(false),
		semconv.ProcessExitCodeKey.Int64(0),
		semconv.CISystemKey.String("github_actions"), semconv.CIStepKey.String("build"),
		semconv.CICDPipelineNameKey.String("ci"), semconv.CICDPipelineRunIDKey.String("9876543210"),
		semconv.CICDPipelineRunURLFullKey.String("https://github.com/acme/app/actions/runs/9876543210/attempts/1"),
		semconv.CICDPipelineTaskNameKey.String("test"), semconv.CICDPipelineTaskRunIDKey.String("27182818284"),
		semconv.CICDPipelineTaskRunURLFullKey.String("https://github.com/acme/app/actions/runs/9876543210/job/27182818284"),
		semconv.CICDWorkerIDKey.String("runner-7"), semconv.CICDWorkerNameKey.String("GitHub Actions 7"),
		semconv.VCSProviderNameKey.String("github"), semconv.VCSRepositoryURLFullKey.String("https://github.com/acme/app"),
		semconv.VCSRefHeadNameKey.String("main"), semconv.VCSRefHeadRevisionKey.String("0123456789abcdef0123456789abcdef01234567"),
		semconv.VCSChangeIDKey.String("42"), semconv.HostNameKey.String("runner-7"),
		semconv.VigilProcessAncestorsKey.StringSlice([]string{"4200 make test", "4100 bash -e run.sh", "1 systemd"}),
		semconv.VigilProcessDetectionsKey.Int64(1), semconv.VigilSpanEndKey.String("exit"),
		semconv.VigilLossStageKey.String("none"),
	}
}

// ruleAttrs are a recipe's attributes, those of a detection beside its
// exec's: 12 of them.
func ruleAttrs() []attribute.KeyValue {
	return []attribute.KeyValue{
		semconv.SecurityRuleNameKey.String("reverse_shell"),
		semconv.SecurityRuleDescriptionKey.String("A shell's standard input and output are a network socket."),
		semconv.SecurityRuleCategoryKey.String("execution"), semconv.SecurityRuleRulesetNameKey.String("vigil"),
		semconv.SecurityRuleReferenceKey.String("https://attack.mitre.org/techniques/T1059/004/"),
		semconv.SecurityRuleVersionKey.String("1"), semconv.ThreatFrameworkKey.String("MITRE ATT&CK"),
		semconv.ThreatTacticIDKey.String("TA0002"), semconv.ThreatTacticNameKey.String("Execution"),
		semconv.ThreatTechniqueIDKey.StringSlice([]string{"T1059"}),
		semconv.ThreatTechniqueNameKey.StringSlice([]string{"Command and Scripting Interpreter"}),
		semconv.VigilRecipeImportanceKey.String("high"),
	}
}

// execSpans returns batch ended spans of the real SDK shaped as vigil's
// exec spans: a remote parent, the exec's attributes, one detection
// event.
func execSpans(b *testing.B) []sdktrace.ReadOnlySpan {
	b.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(testResource()), sdktrace.WithSpanProcessor(rec))
	scope := testScope()
	tracer := tp.Tracer(scope.Name, trace.WithInstrumentationVersion(scope.Version), trace.WithSchemaURL(scope.SchemaURL))
	parent := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5}, TraceFlags: trace.FlagsSampled, Remote: true}))
	now := time.Now()
	for range batch {
		_, span := tracer.Start(parent, "exec gcc", trace.WithTimestamp(now), trace.WithAttributes(execAttrs()...))
		span.AddEvent(semconv.DetectionEventName, trace.WithTimestamp(now), trace.WithAttributes(ruleAttrs()...))
		span.End(trace.WithTimestamp(now.Add(time.Millisecond)))
	}
	return rec.Ended()
}

// marshalOnly is a gRPC client interceptor that marshals each request as
// gRPC's codec does, and sends nothing: the SDK exporters' cost of
// encoding, without the network's.
func marshalOnly(ctx context.Context, _ string, req, _ any, _ *grpc.ClientConn, _ grpc.UnaryInvoker, _ ...grpc.CallOption) error {
	_, err := proto.Marshal(req.(proto.Message))
	return err
}

// perItem starts measuring the CPU time of the process, and returns what
// reports, after the loop, the time and CPU time taken by each of batch
// items. On a machine shared with other work, CPU time varies less than
// time; it counts the garbage collector's work too.
func perItem(b *testing.B) (report func()) {
	start := cpuTime(b)
	return func() {
		per := float64(b.N) * batch
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/item")
		b.ReportMetric(float64(cpuTime(b)-start)/per, "cpu-ns/item")
	}
}

// cpuTime returns the CPU time the process has used, in nanoseconds.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkAppendTraces encodes a request of batch exec spans. sdk is the
// baseline: the real OTLP/gRPC exporter, whose transform and proto.Marshal
// run and whose request is not sent. otlpwire takes the same read-only
// spans.
func BenchmarkAppendTraces(b *testing.B) {
	ctx := context.Background()
	ro := execSpans(b)
	b.Run("sdk", func(b *testing.B) {
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithInsecure(),
			otlptracegrpc.WithDialOption(grpc.WithUnaryInterceptor(marshalOnly)))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = exp.Shutdown(ctx) })
		b.ReportAllocs()
		report := perItem(b)
		for b.Loop() {
			if err := exp.ExportSpans(ctx, ro); err != nil {
				b.Fatal(err)
			}
		}
		report()
	})
	b.Run("otlpwire", func(b *testing.B) {
		spans := make([]otlpwire.Span, len(ro))
		var buf []byte
		b.ReportAllocs()
		report := perItem(b)
		for b.Loop() {
			for i, s := range ro {
				spans[i] = otlpwire.SpanFromReadOnly(s)
			}
			buf = otlpwire.AppendTracesRequest(buf[:0], ro[0].Resource(), ro[0].InstrumentationScope(), spans)
		}
		report()
		b.ReportMetric(float64(len(buf))/batch, "bytes/item")
	})
}

// detections returns batch records of the real SDK shaped as vigil's
// detections: the recipe's attributes, the exec's, an ancestry, 45 in all.
func detections(b *testing.B) []sdklog.Record {
	b.Helper()
	capture := &captureProcessor{}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(testResource()), sdklog.WithProcessor(capture))
	scope := testScope()
	logger := lp.Logger(scope.Name, log.WithInstrumentationVersion(scope.Version), log.WithSchemaURL(scope.SchemaURL))
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5}, TraceFlags: trace.FlagsSampled}))
	for range batch {
		logger.Emit(ctx, detectionRecord())
	}
	return capture.records
}

// detectionRecord is a detection as vigil's exporter emits it.
func detectionRecord() log.Record {
	now := time.Now()
	var r log.Record
	r.SetEventName(semconv.DetectionEventName)
	r.SetTimestamp(now)
	r.SetObservedTimestamp(now)
	r.SetSeverity(log.SeverityWarn)
	r.SetSeverityText("WARN")
	r.SetBody(attribute.StringValue("reverse shell: /usr/bin/bash reads and writes a TCP socket"))
	r.AddAttributes(ruleAttrs()...)
	r.AddAttributes(execAttrs()...)
	r.AddAttributes(detectionContext()...)
	return r
}

// detectionContext is a detection's own surroundings: 3 attributes.
func detectionContext() []attribute.KeyValue {
	return []attribute.KeyValue{
		semconv.VigilSequenceStepsKey.StringSlice([]string{"curl -s https://example.com/x.sh", "bash"}),
		semconv.ThreatTechniqueSubtechniqueIDKey.StringSlice([]string{"T1059.004"}),
		semconv.ThreatTechniqueSubtechniqueNameKey.StringSlice([]string{"Unix Shell"}),
	}
}

// BenchmarkAppendLogs encodes a request of batch detections. sdk is the
// baseline: the real OTLP/gRPC exporter, whose transform and proto.Marshal
// run and whose request is not sent. otlpwire takes the same SDK records,
// their attributes copied into one list; otlpwire-lists the detection's
// three lists as vigil holds them.
func BenchmarkAppendLogs(b *testing.B) {
	ctx := context.Background()
	records := detections(b)
	res, scope := records[0].Resource(), records[0].InstrumentationScope()
	b.Run("sdk", func(b *testing.B) {
		exp, err := otlploggrpc.New(ctx, otlploggrpc.WithInsecure(),
			otlploggrpc.WithDialOption(grpc.WithUnaryInterceptor(marshalOnly)))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = exp.Shutdown(ctx) })
		b.ReportAllocs()
		report := perItem(b)
		for b.Loop() {
			if err := exp.Export(ctx, records); err != nil {
				b.Fatal(err)
			}
		}
		report()
	})
	b.Run("otlpwire", func(b *testing.B) {
		recs := make([]otlpwire.LogRecord, len(records))
		var buf []byte
		b.ReportAllocs()
		report := perItem(b)
		for b.Loop() {
			for i := range records {
				setFromRecord(&recs[i], &records[i])
			}
			buf = otlpwire.AppendLogsRequest(buf[:0], res, scope, recs)
		}
		report()
		b.ReportMetric(float64(len(buf))/batch, "bytes/item")
	})
	b.Run("otlpwire-lists", func(b *testing.B) {
		lists := [][]attribute.KeyValue{ruleAttrs(), execAttrs(), detectionContext()}
		recs := make([]otlpwire.LogRecord, len(records))
		for i := range records {
			setFromRecord(&recs[i], &records[i])
			recs[i].Attributes = lists
		}
		var buf []byte
		b.ReportAllocs()
		report := perItem(b)
		for b.Loop() {
			buf = otlpwire.AppendLogsRequest(buf[:0], res, scope, recs)
		}
		report()
	})
}
