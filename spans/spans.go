// Package spans owns the span of each traced process: it decides which
// execs get one and what its parent is, counts the detections it carries,
// and ends it at the process's next exec, its exit, when the process table
// forgets the process (evicted, or its PID taken again) or when vigil
// stops. Every span it starts is ended, so the exporter delivers it or
// counts it as lost.
package spans

import (
	"context"
	"slices"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/detection"
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/semconv"
)

// Starter starts the span of an exec, a child of parent; nil when it makes
// none. exporter.Exporter is one.
type Starter interface {
	StartExec(parent trace.SpanContext, ex *detection.Exec) detection.ExecSpan
}

// Describer describes a process at one of its execs, for its span.
// describe.Describer is one; the pipeline gives one that describes each
// exec once, for its span and its detections alike.
type Describer interface {
	Exec(p *proctable.Process, ev *event.Event) *detection.Exec
}

// maxLineage bounds how many ancestors a detection gives a span.
const maxLineage = 64

// state is what the owner keeps of one process: the span of its last exec
// (nil when it has none) and the detections of the process and of its
// descendants while they were in the table.
type state struct {
	span       detection.ExecSpan
	detections int
}

// Owner keeps the spans of the processes of one process table. It is not
// safe for concurrent use: the goroutine that applies events to the table
// calls it.
type Owner struct {
	mode     Mode
	start    Starter
	describe Describer
	table    *proctable.Table
	// procs holds the processes with a span or a detection count, by
	// identity: a PID taken again is another process.
	procs map[*proctable.Process]state
}

// New returns the owner of the spans of table's processes, which start
// starts, described by describe, under mode, and has table tell it of the
// processes it forgets.
func New(mode Mode, start Starter, describe Describer, table *proctable.Table) *Owner {
	o := &Owner{mode: mode, start: start, describe: describe, table: table, procs: make(map[*proctable.Process]state)}
	if mode != None {
		table.OnForget(o.forget)
	}
	return o
}

// Exec gives the exec ev of proc, just applied to the table, its span:
// under All when it runs in a trace, under Detections when its previous
// program had one. Its parent is the span of the program the
// process ran before (which ends here), else its parent process's span
// when both run in the same trace context, else the context itself: the
// pipeline step that set TRACEPARENT.
func (o *Owner) Exec(proc *proctable.Process, ev *event.Event) {
	if o.mode == None {
		return
	}
	st, ok := o.procs[proc]
	if prev := st.span; prev != nil {
		prev.EndExec(detection.SpanEnd{At: ev.Time, Reason: semconv.SpanEndExec, Detections: st.detections})
		st.span = o.start.StartExec(prev.SpanContext(), o.describe.Exec(proc, ev))
		o.procs[proc] = st
		return
	}
	if o.mode != All {
		return
	}
	// Only an exec in a trace is described: the others get no span.
	if parent := o.parent(proc); parent.IsValid() {
		st.span = o.start.StartExec(parent, o.describe.Exec(proc, ev))
	}
	if st.span != nil || ok {
		o.procs[proc] = st
	}
}

// Detected counts n detections of proc in its span and those of its
// ancestors, its parent first. Under Detections, it first gives proc its
// span, and its ancestors in the same trace context theirs, as All would
// have at their execs.
func (o *Owner) Detected(proc *proctable.Process, ancestors []*proctable.Process, n int) {
	if o.mode == None {
		return
	}
	o.count(proc, n)
	for _, a := range ancestors {
		o.count(a, n)
	}
	if o.mode == Detections {
		o.lineage(proc)
	}
}

// count adds n detections to those of proc.
func (o *Owner) count(proc *proctable.Process, n int) {
	st := o.procs[proc]
	st.detections += n
	o.procs[proc] = st
}

// lineage gives a process with a detection its span, and its ancestors
// in the same trace context theirs, as All would have at their execs:
// each starts at its process's exec, parents first. A process outside any
// trace, or that has not exec'd since vigil started (a fork still running
// its parent's program, or one older than vigil), has no span, and ends
// the line as it would have.
func (o *Owner) lineage(proc *proctable.Process) {
	var line []*proctable.Process
	for x := proc; x.Trace.IsValid() && o.procs[x].span == nil && x.Exec != nil && x.Exec.PID == x.PID && len(line) < maxLineage; {
		line = append(line, x)
		pp := o.table.Lookup(x.PPID)
		if pp == nil || pp == x || !sameContext(pp.Trace, x.Trace) {
			break
		}
		x = pp
	}
	for _, x := range slices.Backward(line) {
		st := o.procs[x]
		st.span = o.start.StartExec(o.parent(x), o.describe.Exec(x, x.Exec))
		o.procs[x] = st
	}
}

// parent is the parent of the first span of a process: its parent
// process's span when both run in the same trace context, else the
// context itself.
func (o *Owner) parent(proc *proctable.Process) trace.SpanContext {
	if pp := o.table.Lookup(proc.PPID); pp != nil && pp != proc && sameContext(pp.Trace, proc.Trace) {
		if span := o.procs[pp].span; span != nil {
			return span.SpanContext()
		}
	}
	return proc.Trace
}

// sameContext says two processes run in one trace context: the child
// inherited its parent's rather than being given a new one.
func sameContext(a, b trace.SpanContext) bool {
	return a.TraceID() == b.TraceID() && a.SpanID() == b.SpanID()
}

// Context returns ctx with what a detection of proc belongs to: its span,
// or else the trace context it inherited.
func (o *Owner) Context(ctx context.Context, proc *proctable.Process) context.Context {
	if span := o.procs[proc].span; span != nil {
		return trace.ContextWithSpan(ctx, span)
	}
	if proc.Trace.IsValid() {
		return trace.ContextWithSpanContext(ctx, proc.Trace)
	}
	return ctx
}

// Exit ends the span of proc, which exited at `at`: in error when its
// exit code is not 0.
func (o *Owner) Exit(proc *proctable.Process, at time.Time) {
	o.finish(proc, at, semconv.SpanEndExit)
}

// forget ends the span of a process the table let go before its exit was
// seen.
func (o *Owner) forget(proc *proctable.Process, at time.Time) {
	o.finish(proc, at, semconv.SpanEndForgotten)
}

// finish ends and forgets the span of proc, saying why it ends.
func (o *Owner) finish(proc *proctable.Process, at time.Time, why string) {
	st, ok := o.procs[proc]
	if !ok {
		return
	}
	delete(o.procs, proc)
	if st.span == nil {
		return
	}
	end := detection.SpanEnd{At: at, Reason: why, Detections: st.detections}
	if why == semconv.SpanEndExit {
		end.Exited, end.ExitCode = true, proc.ExitCode
	}
	st.span.EndExec(end)
}

// EndAll ends the span of every process still running, at `at`: vigil
// stops.
func (o *Owner) EndAll(at time.Time) {
	for proc := range o.procs {
		o.finish(proc, at, semconv.SpanEndStop)
	}
}
