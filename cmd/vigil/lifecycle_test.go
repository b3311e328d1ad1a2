package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/vigil-otel/vigil/internal/ringtest"
)

// deadReaderRing is the ring buffer size of these runs, which ringtest
// looks for among vigil's maps.
const deadReaderRing = 1 << 20

// readerRun is a vigil run whose stderr is read as it comes.
type readerRun struct {
	cmd *exec.Cmd
	// blind is closed when vigil logs that it no longer reads events,
	// exited when it has ended.
	blind, exited chan struct{}
	mu            sync.Mutex
	stderr        strings.Builder
	err           error
}

func startReaderRun(t *testing.T, vigil string, args ...string) *readerRun {
	t.Helper()
	r := &readerRun{
		cmd:    exec.Command(vigil, append([]string{"run", "--ring-buffer-size", strconv.Itoa(deadReaderRing)}, args...)...),
		blind:  make(chan struct{}),
		exited: make(chan struct{}),
	}
	stderr, err := r.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, r.cmd.Start())
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); <-r.exited })
	go func() {
		lines, once := bufio.NewScanner(stderr), sync.Once{}
		for lines.Scan() {
			r.mu.Lock()
			r.stderr.WriteString(lines.Text() + "\n")
			r.mu.Unlock()
			if strings.Contains(lines.Text(), "vigil no longer reads events") {
				once.Do(func() { close(r.blind) })
			}
		}
		r.err = r.cmd.Wait()
		close(r.exited)
	}()
	return r
}

func (r *readerRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

// TestRunStopsWhenItsReaderDies breaks the ring buffer of a running vigil:
// watching the machine, it stops at once and exits 1 with the reason;
// watching a command, it lets the command finish and exits 125.
func TestRunStopsWhenItsReaderDies(t *testing.T) {
	vigil := buildVigil(t)
	const reason = "vigil: the event reader stopped: read ring buffer: ring buffer positions are inconsistent"

	t.Run("watching the machine", func(t *testing.T) {
		r := startReaderRun(t, vigil, "--jsonl", filepath.Join(t.TempDir(), "out.jsonl"))
		require.Eventually(t, func() bool { return strings.Contains(r.output(), "watching the machine") }, startTimeout, 50e6)
		ringtest.Corrupt(t, r.cmd.Process.Pid, deadReaderRing, r.exited)
		require.Equal(t, 1, exitStatus(t, r.err), "stderr: %s", r.output())
		require.Contains(t, r.output(), reason)
	})

	t.Run("watching a command", func(t *testing.T) {
		dir := t.TempDir()
		started, goOn := filepath.Join(dir, "started"), filepath.Join(dir, "go-on")
		require.NoError(t, unix.Mkfifo(goOn, 0o600))
		r := startReaderRun(t, vigil, "--", "sh", "-c", "touch "+started+"; read line < "+goOn)
		require.Eventually(t, func() bool { _, err := os.Stat(started); return err == nil }, startTimeout, 50e6)
		ringtest.Corrupt(t, r.cmd.Process.Pid, deadReaderRing, r.blind)
		select {
		case <-r.exited:
			t.Fatalf("vigil ended before its command: %s", r.output())
		default:
		}
		require.NoError(t, os.WriteFile(goOn, []byte("\n"), 0o600))
		<-r.exited
		require.Equal(t, exitVigilFailed, exitStatus(t, r.err), "stderr: %s", r.output())
		require.Contains(t, r.output(), reason)
	})
}
