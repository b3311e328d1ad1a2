package proctable

import (
	"os/exec"
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
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero span id
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", // a fifth field in version 00
	} {
		p := tab.Apply(&event.Event{Kind: event.KindExec, PID: uint32(100 + i), PPID: 1, ExePath: "/bin/x",
			Env: map[string]string{"TRACEPARENT": bad}})
		require.False(t, p.Trace.IsValid(), bad)
	}
	require.Equal(t, uint64(6), tab.BadTraceparents())
}

// TestProcessOlderThanVigilRunsInItsTrace reads the trace context of
// processes already running from their environment in /proc, and only
// that of it.
func TestProcessOlderThanVigilRunsInItsTrace(t *testing.T) {
	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	start := func(env ...string) uint32 {
		t.Helper()
		cmd := exec.Command("/bin/sleep", "60")
		cmd.Env = env
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return uint32(cmd.Process.Pid)
	}
	traced := start("PATH=/usr/bin", "TRACEPARENT="+traceparent, "TRACESTATE=vendor=x", "SECRET=hunter2")
	bad := start("TRACEPARENT=garbage")
	lookalike := start("XTRACEPARENT="+traceparent, "A=TRACEPARENT="+traceparent)
	none := start()

	tab, err := New("/proc", 0)
	require.NoError(t, err)
	require.NoError(t, tab.Seed())

	p := tab.Lookup(traced)
	require.NotNil(t, p)
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", p.Trace.TraceID().String())
	require.Equal(t, "00f067aa0ba902b7", p.Trace.SpanID().String())
	require.Equal(t, "vendor=x", p.Trace.TraceState().String())
	for _, pid := range []uint32{bad, lookalike, none} {
		require.False(t, tab.Lookup(pid).Trace.IsValid(), "pid %d", pid)
	}
	require.Zero(t, tab.BadTraceparents(), "counts execs, not processes read from /proc")

	// Its children, forked and exec'd under vigil, inherit the context.
	tab.Apply(&event.Event{Kind: event.KindFork, PID: 1 << 30, PPID: traced})
	child := tab.Apply(&event.Event{Kind: event.KindExec, PID: 1 << 30, PPID: traced, ExePath: "/usr/bin/env"})
	require.Equal(t, p.Trace, child.Trace)
}
