package spans

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/semconv"
)

// recorder starts spans named after the PID, and records them as they end.
type recorder struct {
	tracer trace.Tracer
	ended  *tracetest.SpanRecorder
}

func newRecorder() *recorder {
	ended := tracetest.NewSpanRecorder()
	return &recorder{tracer: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(ended)).Tracer("test"), ended: ended}
}

func (r *recorder) StartExec(parent trace.SpanContext, ex *detection.Exec) detection.ExecSpan {
	if !parent.IsValid() {
		return nil
	}
	_, span := r.tracer.Start(trace.ContextWithSpanContext(context.Background(), parent), ex.SpanName, trace.WithTimestamp(ex.Time))
	return sdkSpan{span}
}

// sdkSpan ends an SDK span as an exec span ends.
type sdkSpan struct{ trace.Span }

func (s sdkSpan) EndExec(e detection.SpanEnd) {
	s.SetAttributes(e.Attributes(nil)...)
	s.SetStatus(e.Status())
	s.End(trace.WithTimestamp(e.At))
}

// Exec describes an exec by its executable alone, which names its span.
func (r *recorder) Exec(p *proctable.Process, ev *event.Event) *detection.Exec {
	return &detection.Exec{SpanName: p.Exe, Time: ev.Time}
}

// endedSpan is what a test checks of an ended span.
type endedSpan struct {
	name       string
	end        time.Time
	detections int64
	exitCode   int64 // -1 when the span has none
	status     codes.Code
	why        string
}

func (r *recorder) spans() []endedSpan {
	var out []endedSpan
	for _, s := range r.ended.Ended() {
		e := endedSpan{name: s.Name(), end: s.EndTime(), exitCode: -1, status: s.Status().Code}
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case semconv.VigilProcessDetectionsKey:
				e.detections = kv.Value.AsInt64()
			case semconv.ProcessExitCodeKey:
				e.exitCode = kv.Value.AsInt64()
			case semconv.VigilSpanEndKey:
				e.why = kv.Value.AsString()
			}
		}
		out = append(out, e)
	}
	return out
}

const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// TestEverySpanEnds gives traced processes spans under a table of three,
// and ends each one its own way: at its next exec, at its exit, evicted,
// its PID taken again, and at the stop.
func TestEverySpanEnds(t *testing.T) {
	table, err := proctable.New("", 3)
	require.NoError(t, err)
	rec := newRecorder()
	o := New(All, rec, rec, table)
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	env := map[string]string{"TRACEPARENT": traceparent}
	apply := func(ev *event.Event) *proctable.Process {
		proc := table.Apply(ev)
		switch ev.Kind {
		case event.KindExec:
			o.Exec(proc, ev)
		case event.KindExit:
			o.Exit(proc, ev.Time)
		}
		return proc
	}
	exec := func(pid, ppid uint32, exe string, ms int) *proctable.Process {
		return apply(&event.Event{Kind: event.KindExec, PID: pid, PPID: ppid, Time: at(ms), ExePath: exe, Env: env})
	}
	fork := func(pid, ppid uint32, ms int) {
		apply(&event.Event{Kind: event.KindFork, PID: pid, PPID: ppid, Time: at(ms)})
	}

	sh := exec(10, 1, "sh", 0)
	fork(11, 10, 1)
	exec(11, 10, "make", 2)
	o.Detected(sh, nil, 2)
	require.Equal(t, sh.Trace.TraceID(), trace.SpanContextFromContext(o.Context(context.Background(), sh)).TraceID())
	exec(11, 10, "cc", 3) // ends make's span
	apply(&event.Event{Kind: event.KindExit, PID: 11, PPID: 10, Time: at(4), ExitStatus: 1 << 8})
	fork(12, 10, 5)
	exec(12, 10, "ld", 6)
	fork(13, 10, 7)
	exec(13, 10, "cpp", 8)
	fork(14, 10, 9)  // evicts the least recently used: ld
	fork(13, 14, 10) // 13 again: cpp's exit was lost
	exec(13, 14, "as", 11)
	o.EndAll(at(12))

	got := rec.spans()
	require.Equal(t, []endedSpan{
		{name: "make", end: at(3), exitCode: -1, why: semconv.SpanEndExec},
		{name: "cc", end: at(4), exitCode: 1, status: codes.Error, why: semconv.SpanEndExit},
		{name: "ld", end: at(9), exitCode: -1, why: semconv.SpanEndForgotten},
		{name: "cpp", end: at(10), exitCode: -1, why: semconv.SpanEndForgotten},
	}, got[:4])
	// What the stop ends, it ends in no order.
	require.ElementsMatch(t, []endedSpan{
		{name: "sh", end: at(12), detections: 2, exitCode: -1, why: semconv.SpanEndStop},
		{name: "as", end: at(12), exitCode: -1, why: semconv.SpanEndStop},
	}, got[4:])
	require.Empty(t, o.procs, "nothing kept of what ended")
}

// TestDetectionsOnlyStartAtDetections gives a span to a process with a
// detection and to its parent in the same trace, each from its exec, and
// to no one else.
func TestDetectionsOnlyStartAtDetections(t *testing.T) {
	table, err := proctable.New("", 0)
	require.NoError(t, err)
	rec := newRecorder()
	o := New(Detections, rec, rec, table)
	t0 := time.Now()
	env := map[string]string{"TRACEPARENT": traceparent}
	sh := table.Apply(&event.Event{Kind: event.KindExec, PID: 10, PPID: 1, Time: t0, ExePath: "sh", Env: env})
	o.Exec(sh, sh.Exec)
	zip := table.Apply(&event.Event{Kind: event.KindExec, PID: 11, PPID: 10, Time: t0.Add(time.Millisecond), ExePath: "zip", Env: env})
	o.Exec(zip, zip.Exec)
	require.Empty(t, o.procs, "no span before a detection")

	o.Detected(zip, []*proctable.Process{sh}, 1)
	require.Equal(t, o.procs[sh].span.SpanContext().SpanID(),
		o.procs[zip].span.(sdkSpan).Span.(sdktrace.ReadOnlySpan).Parent().SpanID(), "the shell is zip's parent")
	ctx := o.Context(context.Background(), zip)
	require.Equal(t, o.procs[zip].span, trace.SpanFromContext(ctx), "the detection belongs to zip's span")
	o.EndAll(t0.Add(time.Second))
	for _, s := range rec.ended.Ended() {
		require.Equal(t, semconv.VigilProcessDetectionsKey.Int(1), attribute.KeyValue(s.Attributes()[0]), s.Name())
	}
	require.Len(t, rec.ended.Ended(), 2)
}
