package exporter

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/proctable"
)

// BenchmarkExecSpan is what a traced exec costs the exporter: its span
// started with the process's attributes (arguments redacted, the CI job's
// attributes read from its environment) and ended.
func BenchmarkExecSpan(b *testing.B) {
	rcv := otlptest.Start(b)
	exp, err := New(context.Background(), Config{OTLP: true, OTLPSettings: OTLPSettings{OTLPConnection: OTLPConnection{Endpoint: rcv.Endpoint}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	ev := &event.Event{
		Kind: event.KindExec, Time: time.Now(), PID: 4242, PPID: 4200, UID: 1001, EUID: 1001,
		Cwd: "/home/runner/work/app/app",
		Env: map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": "ci", "GITHUB_RUN_ID": "9876543210",
			"GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "test", "GITHUB_REPOSITORY": "acme/app",
			"GITHUB_SERVER_URL": "https://github.com", "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
		},
	}
	p := &proctable.Process{PID: 4242, PPID: 4200, Exe: "/usr/bin/gcc",
		Args: []string{"gcc", "-O2", "-c", "src/main.c", "-o", "obj/main.o"}, Exited: true}
	b.ReportAllocs()
	for b.Loop() {
		exp.StartExec(parent, p, ev).End(trace.WithTimestamp(ev.Time))
	}
}
