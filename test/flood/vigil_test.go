package flood

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startTimeout bounds vigil's start (loading its programs, reading /proc),
// stopTimeout its stop (handling what the ring holds, flushing).
const (
	startTimeout = 30 * time.Second
	stopTimeout  = time.Minute
)

// vigilRun is vigil watching the machine, its detections written as JSON
// lines to a pipe that the test reads as they come.
type vigilRun struct {
	cmd *exec.Cmd
	// lines counts the detections read; canary gets the first whose
	// program is the canary's.
	lines  atomic.Int64
	canary chan detection
	// stderr is what vigil wrote there once it has ended.
	stderr chan string
	// read is closed once vigil's standard output has ended.
	read chan struct{}
}

// detection is one JSON line of vigil's, and when the test read it.
type detection struct {
	obj map[string]any
	at  time.Time
}

// startVigil starts vigil watching the machine and waits until it does.
func startVigil(t *testing.T, vigil, canary string) *vigilRun {
	t.Helper()
	v := &vigilRun{
		cmd:    exec.Command(vigil, "run", "--jsonl", "-"),
		canary: make(chan detection, 1),
		stderr: make(chan string, 1),
		read:   make(chan struct{}),
	}
	stdout, err := v.cmd.StdoutPipe()
	require.NoError(t, err)
	stderr, err := v.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, v.cmd.Start())
	t.Cleanup(func() { _ = v.cmd.Process.Kill() })

	watching := make(chan struct{})
	go func() {
		lines := bufio.NewScanner(stderr)
		var all strings.Builder
		said := false
		for lines.Scan() {
			if !said && strings.Contains(lines.Text(), "watching the machine") {
				said = true
				close(watching)
			}
			all.WriteString(lines.Text() + "\n")
		}
		v.stderr <- all.String()
	}()
	go v.readDetections(stdout, [][]byte{[]byte(strconv.Quote(canary)), []byte(strconv.Quote(recipe))})
	select {
	case <-watching:
	case <-time.After(startTimeout):
		t.Fatalf("vigil did not say it watched the machine within %s", startTimeout)
	}
	return v
}

// readDetections counts vigil's JSON lines and hands the first that holds
// each of canary (the canary's program and recipe, quoted) over; the
// others are not decoded.
func (v *vigilRun) readDetections(stdout io.Reader, canary [][]byte) {
	defer close(v.read)
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 0, 64<<10), 1<<20)
	found := false
	for lines.Scan() {
		v.lines.Add(1)
		if found || !containsAll(lines.Bytes(), canary) {
			continue
		}
		d := detection{at: time.Now()}
		if json.Unmarshal(lines.Bytes(), &d.obj) == nil {
			found = true
			v.canary <- d
		}
	}
}

// containsAll says whether b holds each of subs.
func containsAll(b []byte, subs [][]byte) bool {
	for _, s := range subs {
		if !bytes.Contains(b, s) {
			return false
		}
	}
	return true
}

// summary is what vigil said of its run as it ended.
type summary struct {
	// line is the first line of vigil's summary, its counts.
	line string
	// cpu is the CPU time vigil used; rssKiB its resident memory at the
	// end, peakKiB its peak.
	cpu             time.Duration
	rssKiB, peakKiB int
}

// count returns the count of label in the summary line, as in
// "ring buffer full 0".
func (s summary) count(label string) uint64 {
	m := regexp.MustCompile(regexp.QuoteMeta(label) + ` (\d+)`).FindStringSubmatch(s.line)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	return n
}

// stop stops vigil with SIGTERM, which must end it well, and returns its
// summary.
func (v *vigilRun) stop(t *testing.T) summary {
	t.Helper()
	var s summary
	s.rssKiB, s.peakKiB = memKiB(t, v.cmd.Process.Pid, "VmRSS"), memKiB(t, v.cmd.Process.Pid, "VmHWM")
	require.NoError(t, v.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-v.read:
	case <-time.After(stopTimeout):
		t.Fatalf("vigil still runs %s after SIGTERM", stopTimeout)
	}
	stderr := <-v.stderr
	require.NoError(t, v.cmd.Wait(), "vigil exits 0 after SIGTERM; stderr: %s", stderr)
	s.cpu = v.cmd.ProcessState.UserTime() + v.cmd.ProcessState.SystemTime()
	for line := range strings.Lines(stderr) {
		if strings.HasPrefix(line, "vigil: events ") {
			s.line = strings.TrimSpace(strings.TrimPrefix(line, "vigil: "))
		}
	}
	require.NotEmpty(t, s.line, "vigil's summary; stderr: %s", stderr)
	return s
}

// memKiB returns a figure of process pid's memory, in KiB: field is
// VmRSS for its resident memory now, VmHWM for its peak.
func memKiB(t *testing.T, pid int, field string) int {
	t.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^` + field + `:\s+(\d+) kB$`).FindSubmatch(status)
	require.NotNil(t, m, "%s in %s", field, status)
	n, err := strconv.Atoi(string(m[1]))
	require.NoError(t, err)
	return n
}
