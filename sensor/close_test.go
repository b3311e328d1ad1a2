package sensor

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/bpf"
	"github.com/vigil-otel/vigil/event"
)

// newSensor loads and attaches the real programs, following this test
// process; the test closes the sensor itself.
func newSensor(t *testing.T) *Sensor {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loading eBPF programs needs root")
	}
	s, err := New(Config{Follow: uint32(os.Getpid()), Features: testFeatures(t), WakeupInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	return s
}

func TestCloseTwice(t *testing.T) {
	s := newSensor(t)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "a second Close does nothing")

	require.ErrorIs(t, s.Run(context.Background(), func(*event.Event) {}), ErrClosed)
	_, err := s.Stats()
	require.ErrorIs(t, err, ErrClosed)
	require.Zero(t, s.Pending())
}

// TestCloseDoesNotWaitForHandling holds the handler on an event while
// Pending and Close are called: neither waits for it, and Run ends with
// ErrClosed once the handler returns.
func TestCloseDoesNotWaitForHandling(t *testing.T) {
	s := newSensor(t)
	t.Cleanup(func() { _ = s.Close() })
	probe := probeBinary(t, "/bin/true", "vigil-held")
	handling, release := make(chan struct{}), make(chan struct{})
	ran := make(chan error, 1)
	go func() {
		held := false
		ran <- s.Run(context.Background(), func(ev *event.Event) {
			if !held && isExecOf(probe)(ev) {
				held = true
				close(handling)
				<-release
			}
		})
	}()
	// Exits of the probe and of later children queue behind the held one.
	require.NoError(t, exec.Command(probe).Run())
	require.NoError(t, exec.Command("/bin/true").Run())
	select {
	case <-handling:
	case <-time.After(10 * time.Second):
		t.Fatal("the probe's exec never reached the handler")
	}

	returned := func(name string, f func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { f(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			close(release)
			t.Fatalf("%s waited for the handler", name)
		}
	}
	var pending uint64
	returned("Pending", func() { pending = s.Pending() })
	require.NotZero(t, pending, "the probe's exit is queued")
	var closeErr error
	returned("Close", func() { closeErr = s.Close() })
	require.NoError(t, closeErr)
	close(release)
	select {
	case err := <-ran:
		require.ErrorIs(t, err, ErrClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after Close")
	}
}

// TestFirstDecodeErrorIsLogged feeds the reader records the kernel never
// writes: each is counted, the first one's error logged, and the records
// around them still delivered.
func TestFirstDecodeErrorIsLogged(t *testing.T) {
	var log bytes.Buffer
	f := newFakeRing(1024)
	s := &Sensor{ring: &f.ring, decoder: newTestDecoder(64), log: slog.New(slog.NewTextHandler(&log, nil))}
	fork := func(pid uint32) string {
		return string(fixed(t, bpf.SensorEventHeader{Kind: uint8(bpf.SensorEventKindEVENT_FORK), Tgid: pid}))
	}
	f.write(fork(1), 0)
	f.write(string(fixed(t, bpf.SensorEventHeader{Kind: 99})), 0)
	f.write("short", 0)
	f.write(fork(2), 0)

	var pids []uint32
	n, err := s.drain(func(ev *event.Event) { pids = append(pids, ev.PID) })
	require.NoError(t, err)
	require.Equal(t, 2, n, "records handed on")
	require.Equal(t, []uint32{1, 2}, pids)
	st := Stats{Events: s.events.Load(), DecodeErrors: s.decodeErrors.Load()}
	require.Equal(t, Stats{Events: 2, DecodeErrors: 2}, st)
	require.Equal(t, 1, strings.Count(log.String(), "\n"), "only the first is logged: %s", log.String())
	require.Contains(t, log.String(), "unknown record kind 99")
}
