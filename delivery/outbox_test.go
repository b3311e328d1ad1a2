package delivery

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// segments lists the spool's segment files in dir.
func segments(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"+segmentSuffix))
	require.NoError(t, err)
	return files
}

// TestOrderAcrossMemoryAndDisk fills memory while the receiver holds the
// first send, spills the rest to disk, and checks that everything arrives
// in put order, and that once the disk is drained new requests stay in
// memory again.
func TestOrderAcrossMemoryAndDisk(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(dir)
	cfg.MemoryBytes = 4 * 5 // four bodies
	r := newReceiver()
	r.hold()
	o := mustOpen(t, cfg, r)

	putRange(o, 0, 1)
	r.waitEntered(t, body(0))
	putRange(o, 1, 10)
	st := o.Stats()
	require.Equal(t, int64(4), st.Queued.Requests, "0 in flight and 1-3 in memory")
	require.Equal(t, int64(6), st.Spooled.Requests, "4-9 on disk")
	require.Len(t, segments(t, dir), 1)

	r.release()
	flush(t, o)
	require.Equal(t, bodies(0, 10), r.received())
	require.Empty(t, segments(t, dir), "a drained spool leaves no segment")

	putRange(o, 10, 12)
	flush(t, o)
	st = o.Stats()
	require.Equal(t, bodies(0, 12), r.received())
	require.Equal(t, Count{Requests: 12, Items: 12, Bytes: 60}, st.Delivered)
	require.Zero(t, st.Queued)
	require.Zero(t, st.Spooled)
	require.Zero(t, st.DiskBytes)
	require.Zero(t, st.Oldest)
	require.Zero(t, st.Lost())
	requireBalanced(t, st, 12)
}

// TestRestartReplaysInOrder keeps requests on disk across a restart: the
// next run sends them first, in order, then the new ones.
func TestRestartReplaysInOrder(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(dir)
	cfg.MemoryBytes = 1 // every request goes to disk
	down := newReceiver()
	down.set(fail)
	o, err := Open(cfg, down)
	require.NoError(t, err)
	putRange(o, 0, 10)
	require.NoError(t, closeSoon(t, o))
	st := o.Stats()
	require.Equal(t, int64(10), st.Spooled.Requests)
	require.Zero(t, st.Lost())
	require.Empty(t, down.received())

	up := newReceiver()
	o = mustOpen(t, cfg, up)
	putRange(o, 10, 15)
	flush(t, o)
	require.Equal(t, bodies(0, 15), up.received())
	st = o.Stats()
	require.Equal(t, Count{Requests: 10, Items: 10, Bytes: 50}, st.Recovered)
	require.Equal(t, int64(15), st.Delivered.Requests)
	requireBalanced(t, st, 5)
}

// TestCloseSpoolsMemoryBeforeDisk closes while requests wait both in
// memory and on disk: the next run sends those that were in memory first,
// as they are older.
func TestCloseSpoolsMemoryBeforeDisk(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(dir)
	cfg.MemoryBytes = 4 * 5
	r := newReceiver()
	r.hold()
	o, err := Open(cfg, r)
	require.NoError(t, err)
	putRange(o, 0, 1)
	r.waitEntered(t, body(0))
	putRange(o, 1, 10)
	require.NoError(t, closeSoon(t, o), "what is left is kept, not lost")
	<-o.done

	st := o.Stats()
	require.Zero(t, st.Queued)
	require.Equal(t, Count{Requests: 10, Items: 10, Bytes: 50}, st.Spooled)
	require.Zero(t, st.Lost())
	require.Len(t, segments(t, dir), 2, "memory's remainder has a segment of its own, before the others")

	// The same again on top: a run that closes with requests in memory
	// and the first run's still on disk.
	r = newReceiver()
	r.hold()
	o, err = Open(cfg, r)
	require.NoError(t, err)
	r.waitEntered(t, body(0))
	putRange(o, 10, 13)
	require.NoError(t, closeSoon(t, o))

	r = newReceiver()
	o = mustOpen(t, cfg, r)
	flush(t, o)
	require.Equal(t, bodies(0, 13), r.received())
	requireBalanced(t, o.Stats(), 0)
}

// TestExactlyOnce sends through failures and partial rejections: each
// request arrives once, and the counts add up.
func TestExactlyOnce(t *testing.T) {
	for _, dir := range []string{"", "spool"} {
		t.Run("dir="+dir, func(t *testing.T) {
			if dir != "" {
				dir = filepath.Join(t.TempDir(), dir)
			}
			cfg, _ := testConfig(dir)
			if dir != "" {
				cfg.MemoryBytes = 10 * 5 // the rest spills
			}
			r := newReceiver()
			r.reject = 1
			r.set(fail)
			o := mustOpen(t, cfg, r)
			for i := range 40 {
				o.Put(request(i, 3))
			}
			require.Eventually(t, func() bool { return o.Stats().Retries >= 3 }, 10*time.Second, time.Millisecond)
			r.set(accept)
			for i := 40; i < 60; i++ {
				o.Put(request(i, 3))
			}
			flush(t, o)
			st := o.Stats()
			require.Equal(t, bodies(0, 60), r.received())
			require.Equal(t, Count{Requests: 60, Items: 120, Bytes: 300}, st.Delivered)
			require.Equal(t, Count{Items: 60}, st.Dropped[Rejected])
			require.Equal(t, int64(60), st.Lost(), "the rejected items")
			require.False(t, st.Failing)
			requireBalanced(t, st, 180)
		})
	}
}

// TestFailingSpillsToDisk checks that while the receiver fails, new
// requests go to the spool, where a crash of vigil does not lose them.
func TestFailingSpillsToDisk(t *testing.T) {
	cfg, _ := testConfig(t.TempDir())
	r := newReceiver()
	r.set(fail)
	o := mustOpen(t, cfg, r)
	putRange(o, 0, 1)
	require.Eventually(t, func() bool { return o.Stats().Failing }, 10*time.Second, time.Millisecond)
	putRange(o, 1, 4)
	st := o.Stats()
	require.Equal(t, int64(1), st.Queued.Requests)
	require.Equal(t, int64(3), st.Spooled.Requests)
	r.set(accept)
	flush(t, o)
	require.Equal(t, bodies(0, 4), r.received())
}

// TestClose checks that Close delivers what it can, that a second Close
// and a Flush after it return nil, and that a Put after it is counted.
func TestClose(t *testing.T) {
	cfg, _ := testConfig("")
	r := newReceiver()
	o, err := Open(cfg, r)
	require.NoError(t, err)
	putRange(o, 0, 5)
	require.NoError(t, o.Close(context.Background()))
	require.Equal(t, bodies(0, 5), r.received())
	require.NoError(t, o.Close(context.Background()), "a second Close")
	require.NoError(t, o.Flush(context.Background()))
	o.Put(request(5, 2))
	st := o.Stats()
	require.Equal(t, Count{Requests: 1, Items: 2, Bytes: 5}, st.Dropped[Shutdown])
	require.Equal(t, int64(5), st.Delivered.Requests)
	select {
	case <-o.done:
	default:
		t.Fatal("the sender still runs after Close")
	}
}

// TestCloseWithoutSpoolCountsTheRest checks that without a state
// directory what Close could not deliver is counted lost and reported.
func TestCloseWithoutSpoolCountsTheRest(t *testing.T) {
	cfg, _ := testConfig("")
	r := newReceiver()
	r.set(fail)
	o, err := Open(cfg, r)
	require.NoError(t, err)
	putRange(o, 0, 3)
	err = closeSoon(t, o)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "3 requests (3 items) undelivered")
	st := o.Stats()
	require.Equal(t, Count{Requests: 3, Items: 3, Bytes: 15}, st.Dropped[Shutdown])
	requireBalanced(t, st, 3)
}

// TestBackoffStopsAtClose closes an outbox waiting an hour between two
// tries: Close ends the wait, and no send follows.
func TestBackoffStopsAtClose(t *testing.T) {
	cfg, _ := testConfig(t.TempDir())
	cfg.Backoff = Backoff{Initial: time.Hour, Max: time.Hour}
	r := newReceiver()
	r.set(fail)
	o, err := Open(cfg, r)
	require.NoError(t, err)
	putRange(o, 0, 1)
	require.Eventually(t, func() bool { return o.Stats().Retries == 1 }, 10*time.Second, time.Millisecond)
	require.NoError(t, closeSoon(t, o))
	<-o.done
	require.Equal(t, 1, r.sends())
	require.Equal(t, int64(1), o.Stats().Spooled.Requests)
}

// TestHangingReceiver holds every send, ignoring its context: Put goes on,
// and Close returns when its context ends, keeping the request whose send
// never answered, so that the next run sends it (again, if it did arrive).
func TestHangingReceiver(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(dir)
	r := newReceiver()
	r.hold()
	r.deaf = true
	o, err := Open(cfg, r)
	require.NoError(t, err)
	putRange(o, 0, 1)
	r.waitEntered(t, body(0))
	putRange(o, 1, 1000)
	require.Equal(t, int64(1000), o.Stats().Queued.Requests)
	require.NoError(t, closeSoon(t, o))
	st := o.Stats()
	require.Equal(t, int64(1000), st.Spooled.Requests)
	require.Zero(t, st.Delivered)

	r.release()
	<-o.done
	require.Zero(t, o.Stats().Delivered, "an answer after Close does not count")

	r = newReceiver()
	o = mustOpen(t, cfg, r)
	flush(t, o)
	require.Equal(t, bodies(0, 1000), r.received())
}

// TestHangingReceiverCancelled checks that a send in progress at Close is
// cancelled and the sender stops.
func TestHangingReceiverCancelled(t *testing.T) {
	cfg, _ := testConfig("")
	r := newReceiver()
	r.hold()
	o, err := Open(cfg, r)
	require.NoError(t, err)
	putRange(o, 0, 1)
	r.waitEntered(t, body(0))
	require.Error(t, closeSoon(t, o))
	<-o.done
	require.Equal(t, Count{Requests: 1, Items: 1, Bytes: 5}, o.Stats().Dropped[Shutdown])
	require.Zero(t, o.Stats().Retries, "the cancelled send is no failure")
}
