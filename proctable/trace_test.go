package proctable

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/event"
)

func TestTraceContextIsInheritedDownTheTree(t *testing.T) {
	tab, err := New(t.TempDir(), 0)
	require.NoError(t, err)
	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

	job := tab.Apply(&event.Event{Kind: event.KindExec, PID: 10, PPID: 1, ExePath: "/usr/bin/bash",
		Env: map[string]string{"TRACEPARENT": traceparent, "TRACESTATE": "vendor=x"}})
	require.True(t, job.Trace.IsValid())
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", job.Trace.TraceID().String())
	require.Equal(t, "00f067aa0ba902b7", job.Trace.SpanID().String())
	require.True(t, job.Trace.IsSampled())
	require.Equal(t, "vendor=x", job.Trace.TraceState().String())

	// A child that lost the variable still runs in the job's trace, and
	// so does its own child.
	tab.Apply(&event.Event{Kind: event.KindFork, PID: 11, PPID: 10})
	make := tab.Apply(&event.Event{Kind: event.KindExec, PID: 11, PPID: 10, ExePath: "/usr/bin/make"})
	require.Equal(t, job.Trace, make.Trace)
	tab.Apply(&event.Event{Kind: event.KindFork, PID: 12, PPID: 11})
	cc := tab.Apply(&event.Event{Kind: event.KindExec, PID: 12, PPID: 11, ExePath: "/usr/bin/cc"})
	require.Equal(t, job.Trace, cc.Trace)

	// Known from procfs only, not from its fork: found through its parent.
	orphan := tab.Apply(&event.Event{Kind: event.KindExec, PID: 13, PPID: 12, ExePath: "/usr/bin/as"})
	require.Equal(t, job.Trace, orphan.Trace)

	// A new context in the environment wins over the inherited one.
	other := tab.Apply(&event.Event{Kind: event.KindExec, PID: 14, PPID: 10, ExePath: "/usr/bin/step",
		Env: map[string]string{"TRACEPARENT": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}})
	require.Equal(t, "0af7651916cd43dd8448eb211c80319c", other.Trace.TraceID().String())
	require.Zero(t, tab.BadTraceparents())
}

func TestBadTraceparentIsCountedAndIgnored(t *testing.T) {
	tab, err := New(t.TempDir(), 0)
	require.NoError(t, err)
	for i, bad := range []string{
		"garbage",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // all-zero span id
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // forbidden version
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
	} {
		p := tab.Apply(&event.Event{Kind: event.KindExec, PID: uint32(100 + i), PPID: 1, ExePath: "/bin/x",
			Env: map[string]string{"TRACEPARENT": bad}})
		require.False(t, p.Trace.IsValid(), bad)
	}
	require.Equal(t, uint64(5), tab.BadTraceparents())
}
