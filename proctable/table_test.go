package proctable

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
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
	tab, err := New("/proc", 0)
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
	tab, err := New(t.TempDir(), 0) // an empty procfs: only events count
	require.NoError(t, err)
	now := time.Now()

	shExec := &event.Event{Kind: event.KindExec, PID: 10, PPID: 1, Time: now, ExePath: "/usr/bin/dash", Args: []string{"sh", "-c", "x"}}
	tab.Apply(shExec)
	child := tab.Apply(&event.Event{Kind: event.KindFork, PID: 11, PPID: 10, Time: now.Add(time.Millisecond)})
	require.Equal(t, "/usr/bin/dash", child.Exe, "a fork runs its parent's program")
	require.Equal(t, []string{"sh", "-c", "x"}, child.Args)
	require.Same(t, shExec, child.Exec)

	zipExec := &event.Event{Kind: event.KindExec, PID: 11, PPID: 10, Time: now.Add(2 * time.Millisecond), ExePath: "/usr/bin/zip", Args: []string{"zip", "-q"}}
	got := tab.Apply(zipExec)
	require.Equal(t, "/usr/bin/zip", got.Exe)
	require.Equal(t, []string{"/usr/bin/dash"}, got.ExecChain, "the exec chain")
	require.Equal(t, "/usr/bin/dash", got.PrevExe())
	require.Same(t, zipExec, got.Exec)
	require.Equal(t, now.Add(time.Millisecond), got.Start, "started at the fork")
	require.Equal(t, []*Process{tab.Lookup(10)}, tab.Ancestry(got, 10))

	exited := tab.Apply(&event.Event{Kind: event.KindExit, PID: 11, PPID: 10, Time: now.Add(time.Second + time.Millisecond), ExitStatus: 2 << 8})
	require.True(t, exited.Exited)
	require.Equal(t, 2, exited.ExitCode)
	require.Equal(t, time.Second, exited.Lifetime)
	require.Equal(t, "/usr/bin/zip", exited.Exe)
	require.Nil(t, tab.Lookup(11), "the dead are forgotten")
	require.Equal(t, 1, tab.Len())

	relative := tab.Apply(&event.Event{Kind: event.KindExec, PID: 12, PPID: 10, Filename: "bin/../bin/tool"})
	require.Equal(t, "bin/tool", relative.Exe, "a recording without the resolved path")
}

func TestExecChainIsBounded(t *testing.T) {
	tab, err := New(t.TempDir(), 0)
	require.NoError(t, err)
	var p *Process
	for i := range 12 {
		p = tab.Apply(&event.Event{Kind: event.KindExec, PID: 5, PPID: 1, ExePath: "/bin/x" + string(rune('a'+i))})
	}
	require.Len(t, p.ExecChain, maxExecChain)
	require.Equal(t, "/bin/xk", p.PrevExe())
	require.Equal(t, "/bin/xl", p.Exe)
}

func TestTableIsBoundedLRU(t *testing.T) {
	tab, err := New(t.TempDir(), 3)
	require.NoError(t, err)
	for pid := uint32(1); pid <= 3; pid++ {
		tab.Apply(&event.Event{Kind: event.KindFork, PID: pid, PPID: 0})
	}
	require.NotNil(t, tab.Lookup(1)) // 1 is now the most recently used
	tab.Apply(&event.Event{Kind: event.KindFork, PID: 4, PPID: 1})

	require.Equal(t, 3, tab.Len())
	require.Equal(t, uint64(1), tab.Evictions())
	require.Nil(t, tab.Lookup(2), "the least recently used went")
	require.NotNil(t, tab.Lookup(1))
	require.NotNil(t, tab.Lookup(4))
}

// TestHugeCommandLineIsBounded reads at most maxCmdline bytes of the
// command line of a process older than vigil.
func TestHugeCommandLineIsBounded(t *testing.T) {
	// The shell must outlive the look-up: a -c of one command may be
	// replaced by that command (dash execs it), so there are two.
	args := []string{"-c", "sleep 60; exit 0", "sh"}
	for range 1000 {
		args = append(args, strings.Repeat("x", 99)) // 100 KB in all
	}
	cmd := exec.Command("/bin/sh", args...)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// Start returns once the exec has closed the descriptors, which is
	// before the kernel has set up the new program's arguments.
	cmdline := fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid)
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(cmdline)
		return err == nil && len(b) > 0
	}, 10*time.Second, 5*time.Millisecond)

	tab, err := New("/proc", 0)
	require.NoError(t, err)
	p := tab.Lookup(uint32(cmd.Process.Pid))
	require.NotNil(t, p)
	require.GreaterOrEqual(t, len(p.Args), 4)
	require.Equal(t, []string{"/bin/sh", "-c", "sleep 60; exit 0", "sh"}, p.Args[:4])
	require.LessOrEqual(t, len(strings.Join(p.Args, "\x00")), maxCmdline)
	require.Greater(t, len(p.Args), 300, "as many arguments as fit")
}

// TestForgottenProcessesAreTold evicts and replaces processes: OnForget's
// function hears of each, with the time of the event that made room, and
// not of a process that exits.
func TestForgottenProcessesAreTold(t *testing.T) {
	tab, err := New(t.TempDir(), 2)
	require.NoError(t, err)
	type forgotten struct {
		pid uint32
		at  time.Time
	}
	var got []forgotten
	tab.OnForget(func(p *Process, at time.Time) { got = append(got, forgotten{p.PID, at}) })
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	tab.Apply(&event.Event{Kind: event.KindExec, PID: 10, PPID: 1, Time: at(0), ExePath: "/bin/sh"})
	tab.Apply(&event.Event{Kind: event.KindFork, PID: 11, PPID: 10, Time: at(1)})
	tab.Apply(&event.Event{Kind: event.KindExit, PID: 11, PPID: 10, Time: at(2)})
	require.Empty(t, got, "an exit is no forgetting")

	tab.Apply(&event.Event{Kind: event.KindFork, PID: 12, PPID: 10, Time: at(3)})
	tab.Apply(&event.Event{Kind: event.KindFork, PID: 13, PPID: 10, Time: at(4)})
	// The forks looked their parent up: 12 is the least recently used.
	require.Equal(t, []forgotten{{12, at(4)}}, got, "the least recently used, evicted")
	require.Equal(t, uint64(1), tab.Evictions())

	tab.Apply(&event.Event{Kind: event.KindFork, PID: 13, PPID: 10, Time: at(5)})
	require.Equal(t, []forgotten{{12, at(4)}, {13, at(5)}}, got, "a PID taken again, its exit lost")
	require.Equal(t, uint64(1), tab.Evictions(), "a replacement is no eviction")
}
