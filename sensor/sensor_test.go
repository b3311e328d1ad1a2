package sensor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/event"
)

// startSensor loads and attaches the real programs, following this test
// process, and collects every event until the test ends.
func startSensor(t *testing.T, cfg Config) *collector {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loading eBPF programs needs root")
	}
	if cfg.Follow == 0 {
		cfg.Follow = uint32(os.Getpid())
	}
	if cfg.Features == nil {
		cfg.Features = testFeatures(t)
	}
	if cfg.WakeupInterval == 0 {
		// The tests wait for events: a short batch keeps them quick.
		cfg.WakeupInterval = 50 * time.Millisecond
	}
	s, err := New(cfg)
	require.NoError(t, err)
	if cfg.Features != nil {
		require.Equal(t, *cfg.Features, s.Features())
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{sensor: s, done: make(chan error, 1)}
	go func() { c.done <- s.Run(ctx, c.add) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-c.done)
		require.NoError(t, s.Close())
	})
	return c
}

type collector struct {
	sensor *Sensor
	done   chan error
	mu     sync.Mutex
	events []event.Event
}

func (c *collector) add(ev *event.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, *ev)
}

// wait returns the first event that match accepts, failing the test when
// none arrives in time.
func (c *collector) wait(t *testing.T, match func(*event.Event) bool) event.Event {
	t.Helper()
	var found event.Event
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i := range c.events {
			if match(&c.events[i]) {
				found = c.events[i]
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond)
	return found
}

// probeBinary copies a system binary into a fresh directory that any user
// can enter, under a name no other program on the machine uses.
func probeBinary(t testing.TB, src, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vigil-sensor-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o755))
	return path
}

func isExecOf(path string) func(*event.Event) bool {
	return func(ev *event.Event) bool { return ev.Kind == event.KindExec && ev.Filename == path }
}

func TestExecCarriesIdentityAndArgv(t *testing.T) {
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/bin/true", "vigil-probe")

	cmd := exec.Command(probe, "alpha", "two words", "")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	require.NoError(t, cmd.Run())

	ev := c.wait(t, isExecOf(probe))
	require.Equal(t, uint32(cmd.Process.Pid), ev.PID)
	require.Equal(t, uint32(cmd.Process.Pid), ev.TID)
	require.Equal(t, uint32(os.Getpid()), ev.PPID)
	require.Equal(t, []string{probe, "alpha", "two words", ""}, ev.Args)
	require.Equal(t, uint32(4), ev.Argc)
	require.False(t, ev.ArgsTruncated)
	require.Equal(t, uint32(65534), ev.UID)
	require.Equal(t, uint32(65534), ev.GID)
	require.Equal(t, "vigil-probe", ev.Comm)
	require.WithinDuration(t, time.Now(), ev.Time, 10*time.Second)

	exit := c.wait(t, func(ev *event.Event) bool { return ev.Kind == event.KindExit && ev.PID == uint32(cmd.Process.Pid) })
	require.Equal(t, 0, exit.ExitCode())
}

func TestChildOfChildHasParentChain(t *testing.T) {
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/bin/false", "vigil-grandchild")

	// The trailing command keeps the shell from exec'ing the probe in place.
	cmd := exec.Command("/bin/sh", "-c", probe+" deep; exit 7")
	err := cmd.Run()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr)
	shell := uint32(cmd.Process.Pid)

	shExec := c.wait(t, func(ev *event.Event) bool { return ev.Kind == event.KindExec && ev.PID == shell })
	require.Equal(t, uint32(os.Getpid()), shExec.PPID)
	require.Equal(t, []string{"/bin/sh", "-c", probe + " deep; exit 7"}, shExec.Args)

	fork := c.wait(t, func(ev *event.Event) bool { return ev.Kind == event.KindFork && ev.PPID == shell })
	child := c.wait(t, isExecOf(probe))
	require.Equal(t, fork.PID, child.PID)
	require.Equal(t, shell, child.PPID)
	require.Equal(t, []string{probe, "deep"}, child.Args)

	childExit := c.wait(t, func(ev *event.Event) bool { return ev.Kind == event.KindExit && ev.PID == child.PID })
	require.Equal(t, 1, childExit.ExitCode())
	shExit := c.wait(t, func(ev *event.Event) bool { return ev.Kind == event.KindExit && ev.PID == shell })
	require.Equal(t, 7, shExit.ExitCode())
}

func TestFollowFilterSkipsOtherProcesses(t *testing.T) {
	probe := probeBinary(t, "/bin/true", "vigil-outsider")
	// Follow a process that is not this test's ancestor: nothing this test
	// runs may be reported.
	sleeper := exec.Command("/bin/sleep", "30")
	require.NoError(t, sleeper.Start())
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
	c := startSensor(t, Config{Follow: uint32(sleeper.Process.Pid)})

	require.NoError(t, exec.Command(probe).Run())
	marker := probeBinary(t, "/bin/true", "vigil-marker")
	require.NoError(t, exec.Command(marker).Run())
	// The followed process's exit comes after our execs in the ring: once
	// it has arrived, anything of ours would have too.
	require.NoError(t, sleeper.Process.Kill())
	_ = sleeper.Wait()
	c.wait(t, func(ev *event.Event) bool { return ev.Kind == event.KindExit && ev.PID == uint32(sleeper.Process.Pid) })
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range c.events {
		require.NotEqual(t, probe, ev.Filename)
		require.NotEqual(t, marker, ev.Filename)
	}
}

func TestLongArgvIsTruncated(t *testing.T) {
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/bin/true", "vigil-longargv")
	args := make([]string, 200)
	for i := range args {
		args[i] = "argument-with-some-length"
	}
	require.NoError(t, exec.Command(probe, args...).Run())

	ev := c.wait(t, isExecOf(probe))
	require.True(t, ev.ArgsTruncated)
	require.Equal(t, uint32(201), ev.Argc)
	require.Len(t, ev.Args, DefaultMaxArgs)
	require.Equal(t, probe, ev.Args[0])
}

func TestStatsCountEvents(t *testing.T) {
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/bin/true", "vigil-counted")
	cmd := exec.Command(probe)
	require.NoError(t, cmd.Run())
	c.wait(t, func(ev *event.Event) bool { return ev.Kind == event.KindExit && ev.PID == uint32(cmd.Process.Pid) })

	st, err := c.sensor.Stats()
	require.NoError(t, err)
	require.GreaterOrEqual(t, st.Events, uint64(3), "fork, exec and exit of the probe")
	require.Zero(t, st.Lost())
}
