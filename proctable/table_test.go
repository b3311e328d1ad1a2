package proctable

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/event"
)

func TestParseStatToleratesHostileCommandNames(t *testing.T) {
	stat := []byte("4242 (a) (b ) c) S 17 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 0 0\n")
	ppid, start, err := parseStat(stat)
	require.NoError(t, err)
	require.Equal(t, uint32(17), ppid)
	require.Equal(t, uint64(987654), start)

	_, _, err = parseStat([]byte("12 (x) S 1"))
	require.ErrorContains(t, err, "fields after the command name")
	_, _, err = parseStat([]byte("garbage"))
	require.ErrorContains(t, err, "no command name")
}

func TestSeedFindsRunningProcesses(t *testing.T) {
	tab, err := New("/proc")
	require.NoError(t, err)
	require.NoError(t, tab.Seed())

	self := tab.Lookup(uint32(os.Getpid()))
	require.NotNil(t, self)
	require.Equal(t, uint32(os.Getppid()), self.PPID)
	require.Equal(t, os.Args, self.Args)
	exe, err := os.Executable()
	require.NoError(t, err)
	require.Equal(t, exe, self.Exe)
	require.WithinDuration(t, time.Now(), self.Start, time.Hour)
	require.Greater(t, tab.Len(), 1)
}

func TestEventsKeepTheTable(t *testing.T) {
	tab, err := New(t.TempDir()) // an empty procfs: only events count
	require.NoError(t, err)
	now := time.Now()

	tab.Apply(&event.Event{Kind: event.KindExec, PID: 10, PPID: 1, Time: now, Filename: "/bin/sh", Args: []string{"sh", "-c", "x"}})
	child := tab.Apply(&event.Event{Kind: event.KindFork, PID: 11, PPID: 10, Time: now.Add(time.Millisecond)})
	require.Equal(t, "/bin/sh", child.Exe, "a fork runs its parent's program")
	require.Equal(t, []string{"sh", "-c", "x"}, child.Args)

	got := tab.Apply(&event.Event{Kind: event.KindExec, PID: 11, PPID: 10, Time: now.Add(2 * time.Millisecond), Filename: "/usr/bin/../bin/zip", Args: []string{"zip", "-q"}})
	require.Equal(t, &Process{PID: 11, PPID: 10, Exe: "/usr/bin/zip", Args: []string{"zip", "-q"}, Start: now.Add(time.Millisecond)}, got)
	require.Equal(t, "/bin/sh", tab.Lookup(got.PPID).Exe)

	exited := tab.Apply(&event.Event{Kind: event.KindExit, PID: 11, PPID: 10})
	require.Equal(t, "/usr/bin/zip", exited.Exe)
	require.Nil(t, tab.Lookup(11))
	require.Equal(t, 1, tab.Len())
}
