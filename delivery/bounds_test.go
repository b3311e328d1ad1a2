package delivery

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMemoryFullDropsOldest fills an outbox without a spool while the
// receiver holds the first send: the oldest waiting requests make room.
func TestMemoryFullDropsOldest(t *testing.T) {
	cfg, _ := testConfig("")
	cfg.MemoryBytes = 4 * 5
	r := newReceiver()
	r.hold()
	o := mustOpen(t, cfg, r)
	putRange(o, 0, 1)
	r.waitEntered(t, body(0))
	putRange(o, 1, 10)
	st := o.Stats()
	require.Equal(t, Count{Requests: 6, Items: 6, Bytes: 30}, st.Dropped[Full], "1-6")
	require.Equal(t, Count{Requests: 4, Items: 4, Bytes: 20}, st.Queued)

	r.release()
	flush(t, o)
	require.Equal(t, []string{body(0), body(7), body(8), body(9)}, r.received())
	requireBalanced(t, o.Stats(), 10)
}

// TestDiskFullDropsOldest fills a spool of three one-record segments
// while the receiver holds the first send, read from the oldest segment:
// the oldest segments make room, and the request in flight is sent still.
func TestDiskFullDropsOldest(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(dir)
	cfg.MemoryBytes = 1
	cfg.DiskBytes = 3 * (segmentHeaderSize + recordHeaderSize + 5)
	r := newReceiver()
	r.hold()
	o := mustOpen(t, cfg, r)
	putRange(o, 0, 1)
	r.waitEntered(t, body(0))
	putRange(o, 1, 10)
	st := o.Stats()
	require.Equal(t, Count{Requests: 6, Items: 6, Bytes: 30}, st.Dropped[Full], "1-6")
	require.Equal(t, Count{Requests: 1, Items: 1, Bytes: 5}, st.Queued, "0, whose segment was dropped under it")
	require.Equal(t, Count{Requests: 3, Items: 3, Bytes: 15}, st.Spooled)
	require.Equal(t, cfg.DiskBytes, st.DiskBytes)
	require.Len(t, segments(t, dir), 3)

	r.release()
	flush(t, o)
	require.Equal(t, []string{body(0), body(7), body(8), body(9)}, r.received())
	requireBalanced(t, o.Stats(), 10)
}

// TestTooBigForTheBounds drops a request larger than a bound at once.
func TestTooBigForTheBounds(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		cfg, _ := testConfig(dir)
		cfg.MemoryBytes, cfg.DiskBytes = 4, 4
		r := newReceiver()
		o := mustOpen(t, cfg, r)
		putRange(o, 0, 2)
		flush(t, o)
		require.Empty(t, r.received())
		require.Equal(t, Count{Requests: 2, Items: 2, Bytes: 10}, o.Stats().Dropped[Full], "dir %q", dir)
	}
}

// TestOpenTrimsToDiskBytes reopens a spool with a smaller bound: its
// oldest segments are dropped.
func TestOpenTrimsToDiskBytes(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(dir)
	cfg.MemoryBytes = 1
	cfg.DiskBytes = 16 * (segmentHeaderSize + recordHeaderSize + 5) // one record a segment
	r := newReceiver()
	r.set(fail)
	o, err := Open(cfg, r)
	require.NoError(t, err)
	putRange(o, 0, 10)
	require.NoError(t, closeSoon(t, o))
	require.Len(t, segments(t, dir), 10)

	cfg.DiskBytes = 4 * (segmentHeaderSize + recordHeaderSize + 5)
	r = newReceiver()
	o = mustOpen(t, cfg, r)
	flush(t, o)
	require.Equal(t, bodies(6, 10), r.received())
	require.Equal(t, int64(6), o.Stats().Dropped[Full].Requests)
}

// TestTooOld lets requests wait longer than MaxAge, in memory and on
// disk, and across a restart: they are dropped and counted; the request
// sent before it was too old is delivered.
func TestTooOld(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	cfg, _ := testConfig(dir)
	cfg.now = clk.Now
	cfg.MaxAge = time.Hour
	cfg.MemoryBytes = 3 * 5
	r := newReceiver()
	r.hold()
	o := mustOpen(t, cfg, r)
	putRange(o, 0, 1)
	r.waitEntered(t, body(0))
	putRange(o, 1, 6) // 1-2 in memory, 3-5 on disk
	require.Equal(t, time.Duration(0), o.Stats().Oldest)
	clk.advance(30 * time.Minute)
	require.Equal(t, 30*time.Minute, o.Stats().Oldest)
	clk.advance(31 * time.Minute)
	putRange(o, 6, 7)
	r.release()
	flush(t, o)
	st := o.Stats()
	require.Equal(t, []string{body(0), body(6)}, r.received())
	require.Equal(t, Count{Requests: 5, Items: 5, Bytes: 25}, st.Dropped[TooOld])
	requireBalanced(t, st, 7)

	r.set(fail)
	putRange(o, 7, 9)
	require.NoError(t, closeSoon(t, o))
	clk.advance(2 * time.Hour)
	r = newReceiver()
	o = mustOpen(t, cfg, r)
	flush(t, o)
	require.Empty(t, r.received())
	require.Equal(t, Count{Requests: 2, Items: 2, Bytes: 10}, o.Stats().Dropped[TooOld], "spooled by the last run")
}

// TestUnwritableSpool blocks the name of the next segment: the request
// that cannot be spooled is dropped, with one warning, unless the spool is
// empty and memory has room.
func TestUnwritableSpool(t *testing.T) {
	dir := t.TempDir()
	cfg, logs := testConfig(dir)
	cfg.DiskBytes = 16 * (segmentHeaderSize + recordHeaderSize + 5) // one record a segment
	r := newReceiver()
	r.set(fail)
	o := mustOpen(t, cfg, r)
	putRange(o, 0, 1)
	require.Eventually(t, func() bool { return o.Stats().Failing }, 10*time.Second, time.Millisecond)

	blocker := segmentPath(dir, firstSeq)
	require.NoError(t, os.Mkdir(blocker, 0o700))
	putRange(o, 1, 2)
	require.Equal(t, int64(2), o.Stats().Queued.Requests, "kept in memory: the spool is empty")
	require.NoError(t, os.Remove(blocker))
	putRange(o, 2, 3)
	require.NoError(t, os.Mkdir(segmentPath(dir, firstSeq+1), 0o700))
	putRange(o, 3, 5)
	require.NoError(t, os.Remove(segmentPath(dir, firstSeq+1)))
	putRange(o, 5, 6)

	r.set(accept)
	flush(t, o)
	st := o.Stats()
	require.Equal(t, []string{body(0), body(1), body(2), body(5)}, r.received())
	require.Equal(t, Count{Requests: 2, Items: 2, Bytes: 10}, st.Dropped[Unwritable])
	require.Len(t, logs.lines("cannot write the spool"), 2, "once each time writing starts failing")
	requireBalanced(t, st, 6)
}
