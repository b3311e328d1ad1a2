package proctable

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/sensor"
)

// TestProcessOlderThanVigilHasItsAncestry starts a shell before the sensor
// and the table exist; the program it later execs must come with the
// shell, and this test process, as its ancestors, read from /proc.
func TestProcessOlderThanVigilHasItsAncestry(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loading eBPF programs needs root")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "go")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	data, err := os.ReadFile("/bin/false")
	require.NoError(t, err)
	probe := filepath.Join(dir, "vigil-late")
	require.NoError(t, os.WriteFile(probe, data, 0o755))

	shell := exec.Command("/bin/sh", "-c", "read x < "+fifo+"; exec "+probe+" late")
	require.NoError(t, shell.Start())
	time.Sleep(100 * time.Millisecond) // the shell is running before vigil

	s, err := sensor.New(sensor.Config{})
	require.NoError(t, err)
	defer s.Close()
	tab, err := New("/proc", 0)
	require.NoError(t, err)
	require.NoError(t, tab.Seed())

	var (
		execd, exited *Process
		ancestry      []*Process
	)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(ev *event.Event) {
			p := tab.Apply(ev)
			if ev.PID != uint32(shell.Process.Pid) {
				return
			}
			switch ev.Kind {
			case event.KindExec:
				execd, ancestry = p, tab.Ancestry(p, 16)
			case event.KindExit:
				exited = p
				cancel()
			}
		})
	}()
	require.NoError(t, os.WriteFile(fifo, []byte("go\n"), 0))
	require.Error(t, shell.Wait(), "false exits 1")
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("the exit of the probe never arrived")
	}

	require.NotNil(t, execd)
	require.Equal(t, probe, execd.Exe)
	require.Equal(t, []string{probe, "late"}, execd.Args)
	dash, err := filepath.EvalSymlinks("/bin/sh")
	require.NoError(t, err)
	require.Equal(t, dash, execd.PrevExe(), "the shell exec'd the probe in place")
	require.WithinDuration(t, time.Now(), execd.Start, time.Minute, "its start time comes from /proc")

	require.NotEmpty(t, ancestry)
	self := ancestry[0]
	require.Equal(t, uint32(os.Getpid()), self.PID)
	exe, err := os.Executable()
	require.NoError(t, err)
	require.Equal(t, exe, self.Exe)
	require.Equal(t, os.Args, self.Args)
	require.False(t, self.Start.IsZero())

	require.NotNil(t, exited)
	require.Equal(t, 1, exited.ExitCode)
	require.Greater(t, exited.Lifetime, 100*time.Millisecond, "it lived since before vigil")
}
