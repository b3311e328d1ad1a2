package pipeline

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/spans"
)

// BenchmarkHandleTracedExec is the pipeline's work for a compiler run in a
// traced CI job (fork, exec, exit) that no recipe of the catalog matches,
// by span mode, export included: the spans go over OTLP/gRPC to a sink that
// does not decode them. none is the baseline: the table and the recipes
// alone.
func BenchmarkHandleTracedExec(b *testing.B) {
	rcv := otlptest.StartSink(b)
	recipes, errs := recipe.Builtin()
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	env := map[string]string{
		"TRACEPARENT":    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": "ci", "GITHUB_RUN_ID": "9876543210",
		"GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "test", "GITHUB_REPOSITORY": "acme/app",
	}
	now := time.Now()
	shell := &event.Event{Kind: event.KindExec, Time: now, PID: 100, PPID: 1, Env: env,
		Filename: "/usr/bin/make", ExePath: "/usr/bin/make", Args: []string{"make", "test"}, Cwd: "/home/runner/work/app"}
	fork := &event.Event{Kind: event.KindFork, Time: now, PID: 101, PPID: 100}
	gcc := &event.Event{Kind: event.KindExec, Time: now, PID: 101, PPID: 100, Env: env,
		Filename: "/usr/bin/gcc", ExePath: "/usr/bin/gcc", Args: []string{"gcc", "-O2", "-c", "src/main.c", "-o", "obj/main.o"},
		Cwd: "/home/runner/work/app"}
	exit := &event.Event{Kind: event.KindExit, Time: now, PID: 101, PPID: 100}

	for _, mode := range []spans.Mode{spans.None, spans.Detections, spans.All} {
		b.Run(mode.String(), func(b *testing.B) {
			p := benchPipeline(b, Config{Recipes: recipes, Spans: mode, Exporter: exporter.Config{OTLP: true,
				OTLPSettings: exporter.OTLPSettings{OTLPConnection: exporter.OTLPConnection{Endpoint: rcv.Endpoint}}, Spans: mode != spans.None}},
				shell, fork, gcc, exit)
			if p.detections.Load() != 0 {
				b.Fatalf("%d detections: the benchmark means execs no recipe matches", p.detections.Load())
			}
			b.ReportMetric(float64(rcv.Requests()), "requests")
		})
	}
}

// BenchmarkHandleDetectedExec is the pipeline's work for a program run
// outside any trace (fork, exec, exit), with the built-in catalog, by what
// becomes of it: watched, no recipe matching (true), against detected,
// exec_example firing on zip, its detection written as a JSON line or
// exported over OTLP/gRPC to a sink that does not decode it; watched with
// spans on too, which an exec outside a trace does not get.
func BenchmarkHandleDetectedExec(b *testing.B) {
	sink := otlptest.StartSink(b)
	recipes, errs := recipe.Builtin()
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	now := time.Now()
	shell := &event.Event{Kind: event.KindExec, Time: now, PID: 100, PPID: 1,
		Filename: "/usr/bin/bash", ExePath: "/usr/bin/bash", Args: []string{"bash", "storm.sh"}, Cwd: "/root"}
	fork := &event.Event{Kind: event.KindFork, Time: now, PID: 101, PPID: 100}
	exit := &event.Event{Kind: event.KindExit, Time: now, PID: 101, PPID: 100}
	otlp := exporter.Config{OTLP: true, Spans: true, OTLPSettings: exporter.OTLPSettings{OTLPConnection: exporter.OTLPConnection{Endpoint: sink.Endpoint}}}
	run := func(name string) *event.Event {
		return &event.Event{Kind: event.KindExec, Time: now, PID: 101, PPID: 100, Filename: "/usr/bin/" + name,
			ExePath: "/usr/bin/" + name, Args: []string{name, "-q", "out.zip", "src"}, Cwd: "/root"}
	}
	for _, c := range []struct {
		name       string
		exec       *event.Event
		detections uint64
		cfg        exporter.Config
		mode       spans.Mode
	}{
		{"watched", run("true"), 0, exporter.Config{JSONL: io.Discard}, spans.None},
		// Spans on, as a daemon exporting over OTLP has them: an exec
		// outside any trace costs what it costs without.
		{"watched-spans-all", run("true"), 0, otlp, spans.All},
		{"detected-jsonl", run("zip"), 1, exporter.Config{JSONL: io.Discard}, spans.None},
		{"detected-otlp", run("zip"), 1, otlp, spans.None},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := benchPipeline(b, Config{Recipes: recipes, Spans: c.mode, Exporter: c.cfg}, shell, fork, c.exec, exit)
			if got := p.detections.Load(); got != c.detections*uint64(b.N) {
				b.Fatalf("%d detections in %d execs, want %d each", got, b.N, c.detections)
			}
		})
	}
}

// benchPipeline joins the stages downstream of the sensor as cfg says,
// hands them first, then loops on the fork, exec and exit of a child.
func benchPipeline(b *testing.B, cfg Config, first, fork, exec, exit *event.Event) *Pipeline {
	b.Helper()
	exp, err := exporter.New(context.Background(), cfg.Exporter)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	table, err := proctable.New("", 0)
	if err != nil {
		b.Fatal(err)
	}
	p, err := newPipeline(table, exp, cfg)
	if err != nil {
		b.Fatal(err)
	}
	p.handle(first)
	b.ReportAllocs()
	for b.Loop() {
		p.handle(fork)
		p.handle(exec)
		p.handle(exit)
	}
	// Delivered, so that nothing lost goes unseen: on one processor (-cpu
	// 1) the loop never waits as the reader waits for the kernel, the
	// network is polled seldom, and the spans' delivery falls behind.
	if err := exp.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	st := exp.Stats()
	b.ReportMetric(float64(st.SpansFailed+st.Failed)/float64(b.N), "lost/op")
	return p
}
