// Package flood replays an attack on vigil itself: an unprivileged user
// runs a flood of execs, each a program at a path never seen under a
// hidden directory, and a root process's detection made meanwhile must
// still be reported, and soon.
package flood

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/otlptest"
	"github.com/vigil-otel/vigil/internal/vigiltest"
	"github.com/vigil-otel/vigil/semconv"
)

// The flood: its execs, each of a path of its own, and the loops that
// make them, one per CPU of CI's machines.
const (
	floodExecs = 100_000
	floodLoops = 2
	// linksPerFile stays under ext4's 65,000 links per file.
	linksPerFile = 50_000
)

// maxDelay bounds how long after it ran the root process's detection must
// be out: about twice the ring's wake-up interval (1 s) and the JSON
// lines' flush (1 s), and slack for a loaded machine. A vigil that falls
// behind the flood reports it minutes late, or never.
const maxDelay = 10 * time.Second

// recipe is what detects the flood and the root process alike: a program
// under a hidden directory in /tmp, limited per executable, so that each
// exec of the flood is a key of its limit.
const recipe = "hidden_elf_exec_system"

// TestFloodDeliversRootDetection floods vigil, watching the machine, with
// execs of distinct paths and arguments by nobody, and runs a root process
// that the same recipe detects halfway: its detection must come out within
// maxDelay. The ring's drops, vigil's CPU and the limit's evictions are
// logged.
func TestFloodDeliversRootDetection(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("vigil loads eBPF programs, and the flood runs as nobody: run as root")
	}
	otlptest.ClearOTelEnv(t)
	work := workDir(t)
	vigil := vigiltest.Build(t, work)
	paths := floodPaths(t, filepath.Join(work, ".flood"))
	canary := writeExit(t, filepath.Join(work, ".canary", "canary"))

	v := startVigil(t, vigil, canary)
	begun := time.Now()
	f := startFlood(paths)
	select {
	case <-f.half:
	case <-f.done:
		require.NoError(t, f.err)
	}
	halfRSS := memKiB(t, v.cmd.Process.Pid, "VmRSS")
	cmd := exec.Command(canary)
	canaryAt := time.Now()
	require.NoError(t, cmd.Start())
	require.NoError(t, cmd.Wait())
	<-f.done
	require.NoError(t, f.err)
	took := time.Since(begun)
	t.Logf("flood: %d execs by nobody in %s (%.0f/s)", len(paths), took.Round(time.Millisecond), float64(len(paths))/took.Seconds())

	// By now the flood may have outlasted maxDelay: a detection already
	// read comes first, however late.
	var found *detection
	select {
	case d := <-v.canary:
		found = &d
	case <-time.After(time.Until(canaryAt.Add(maxDelay))):
		select {
		case d := <-v.canary:
			found = &d
		default:
		}
	}
	sum := v.stop(t)
	t.Logf("vigil: %s", sum.line)
	t.Logf("vigil: %d detections written, %.1f µs of CPU per flood exec, %d ring buffer drops, %d limit keys evicted; RSS %d KiB halfway, %d KiB at the end, peak %d KiB",
		v.lines.Load(), float64(sum.cpu.Microseconds())/float64(len(paths)), sum.count("ring buffer full"),
		sum.count("report limit keys forgotten"), halfRSS, sum.rssKiB, sum.peakKiB)
	require.NotNil(t, found, "no detection of the root process %s %s after it ran", canary, maxDelay)
	delay := found.at.Sub(canaryAt)
	t.Logf("the root process's detection was out %s after it ran", delay.Round(time.Millisecond))
	require.LessOrEqual(t, delay, maxDelay)
	require.Equal(t, recipe, found.obj[string(semconv.SecurityRuleNameKey)])
	require.Equal(t, float64(cmd.Process.Pid), found.obj[string(semconv.ProcessPIDKey)])
	require.Equal(t, float64(0), found.obj[string(semconv.ProcessUserIDKey)])
	require.Greater(t, sum.count("report limit keys forgotten"), uint64(0), "the flood overran the limit's bound")
}

// workDir returns a directory in /tmp, where the recipe looks, open to
// the user nobody and removed at the end (t.TempDir's are root's only).
func workDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "vigil-flood-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	return dir
}

// floodPaths makes the flood's programs in dir: hard links to copies of
// an exit(0) program, one path per exec.
func floodPaths(t *testing.T, dir string) []string {
	t.Helper()
	paths := make([]string, floodExecs)
	var src string
	for i := range paths {
		if i%linksPerFile == 0 {
			src = writeExit(t, filepath.Join(dir, "src"+strconv.Itoa(i)))
		}
		paths[i] = filepath.Join(dir, strconv.Itoa(i))
		require.NoError(t, os.Link(src, paths[i]))
	}
	return paths
}

// floodRun is a flood running: half is closed once half its execs have
// run, done once all have or one failed, err then says which.
type floodRun struct {
	half, done chan struct{}
	err        error
}

// startFlood runs each of paths once, as nobody, with its index as
// argument, floodLoops at a time.
func startFlood(paths []string) *floodRun {
	f := &floodRun{half: make(chan struct{}), done: make(chan struct{})}
	nobody := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	attr := &syscall.ProcAttr{Env: []string{}, Sys: nobody}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, floodLoops)
	for loop := range floodLoops {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(paths); i = int(next.Add(1) - 1) {
				if errs[loop] = run(paths[i], []string{paths[i], strconv.Itoa(i)}, attr); errs[loop] != nil {
					return
				}
				if i == len(paths)/2 {
					close(f.half)
				}
			}
		})
	}
	go func() {
		wg.Wait()
		f.err = errors.Join(errs...)
		close(f.done)
	}()
	return f
}

// run runs a program to its end, which must be a success.
func run(path string, args []string, attr *syscall.ProcAttr) error {
	pid, err := syscall.ForkExec(path, args, attr)
	if err != nil {
		return fmt.Errorf("run %s: %w", path, err)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
		return fmt.Errorf("wait for %s: %w", path, err)
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return fmt.Errorf("%s ended with status %#x", path, ws)
	}
	return nil
}
