package delivery

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// spoolOf leaves requests from to to (not included) in a spool in dir, as
// a run that could not deliver them would.
func spoolOf(t *testing.T, dir string, from, to int) {
	t.Helper()
	cfg, _ := testConfig(dir)
	cfg.MemoryBytes = 1
	r := newReceiver()
	r.set(fail)
	o, err := Open(cfg, r)
	require.NoError(t, err)
	putRange(o, from, to)
	require.NoError(t, closeSoon(t, o))
}

// damage changes the segment file of dir with f.
func damage(t *testing.T, dir string, f func(b []byte) []byte) {
	t.Helper()
	segs := segments(t, dir)
	require.Len(t, segs, 1)
	b, err := os.ReadFile(segs[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(segs[0], f(b), 0o600))
}

// recordAt is the offset of the i-th record of a test's segment.
func recordAt(i int) int { return segmentHeaderSize + i*(recordHeaderSize+5) }

func TestRecoverCorrupt(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(b []byte) []byte
		replay  []string
		corrupt Count
	}{{
		name:   "torn tail",
		damage: func(b []byte) []byte { return b[:len(b)-3] },
		replay: bodies(0, 4),
		// The torn record's 26 bytes.
		corrupt: Count{Requests: 1, Bytes: recordHeaderSize + 2},
	}, {
		name: "garbage after the last record",
		damage: func(b []byte) []byte {
			return append(b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25)
		},
		replay:  bodies(0, 5),
		corrupt: Count{Requests: 1, Bytes: 25},
	}, {
		name: "a flipped bit in the middle",
		damage: func(b []byte) []byte {
			b[recordAt(2)+recordHeaderSize+1] ^= 4
			return b
		},
		replay:  bodies(0, 2),
		corrupt: Count{Requests: 1, Bytes: 3 * (recordHeaderSize + 5)},
	}, {
		name: "not a segment",
		damage: func(b []byte) []byte {
			copy(b, "elephant")
			return b
		},
		corrupt: Count{Requests: 1, Bytes: int64(recordAt(5))},
	}, {
		name:   "empty file",
		damage: func([]byte) []byte { return nil },
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			spoolOf(t, dir, 0, 5)
			damage(t, dir, tt.damage)

			cfg, logs := testConfig(dir)
			r := newReceiver()
			o := mustOpen(t, cfg, r)
			flush(t, o)
			st := o.Stats()
			require.Equal(t, tt.replay, r.received())
			require.Equal(t, tt.corrupt, st.Dropped[Corrupt])
			require.Equal(t, int64(len(tt.replay)), st.Recovered.Requests)
			require.Len(t, logs.lines("crash left unfinished"), int(tt.corrupt.Requests), "logged once")
			requireBalanced(t, st, 0)
		})
	}
}

// TestRecoverCutsTheTornTail checks that the torn tail is cut off, so that
// the next start does not count it again.
func TestRecoverCutsTheTornTail(t *testing.T) {
	dir := t.TempDir()
	spoolOf(t, dir, 0, 5)
	damage(t, dir, func(b []byte) []byte { return b[:len(b)-3] })
	cfg, _ := testConfig(dir)
	r := newReceiver()
	r.set(fail)
	o, err := Open(cfg, r)
	require.NoError(t, err)
	require.Equal(t, int64(1), o.Stats().Dropped[Corrupt].Requests)
	require.NoError(t, closeSoon(t, o))

	o = mustOpen(t, cfg, newReceiver())
	st := o.Stats()
	require.Zero(t, st.Dropped[Corrupt])
	require.Equal(t, int64(4), st.Recovered.Requests)
}

// TestCorruptWhileRunning damages a segment after it was written: the
// rest of it is dropped when read back, its items counted exactly.
func TestCorruptWhileRunning(t *testing.T) {
	dir := t.TempDir()
	cfg, logs := testConfig(dir)
	cfg.MemoryBytes = 1
	r := newReceiver()
	r.hold()
	o := mustOpen(t, cfg, r)
	putRange(o, 0, 1)
	r.waitEntered(t, body(0))
	putRange(o, 1, 5)
	f, err := os.OpenFile(segments(t, dir)[0], os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0xff}, int64(recordAt(2)+recordHeaderSize))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	r.release()
	flush(t, o)
	st := o.Stats()
	require.Equal(t, bodies(0, 2), r.received())
	require.Equal(t, Count{Requests: 3, Items: 3, Bytes: 15}, st.Dropped[Corrupt])
	require.Len(t, logs.lines("could not be read back"), 1)
	requireBalanced(t, st, 5)
}

// TestCursorAvoidsResending restarts after part of a segment was
// delivered: only the rest is sent again.
func TestCursorAvoidsResending(t *testing.T) {
	dir := t.TempDir()
	spoolOf(t, dir, 0, 6)
	cfg, _ := testConfig(dir)
	r := newReceiver()
	r.failAfter = 3
	o, err := Open(cfg, r)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return o.Stats().Failing }, 10*time.Second, time.Millisecond)
	require.NoError(t, closeSoon(t, o))
	require.Equal(t, bodies(0, 3), r.received())

	r = newReceiver()
	o = mustOpen(t, cfg, r)
	flush(t, o)
	require.Equal(t, bodies(3, 6), r.received(), "each request once over both runs")
}
