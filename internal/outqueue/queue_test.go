package outqueue

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// writes records the batches a queue writes.
type writes struct {
	mu      sync.Mutex
	batches [][]int
}

func (w *writes) write(batch []int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.batches = append(w.batches, append([]int(nil), batch...))
	return nil
}

func (w *writes) got() [][]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batches
}

// TestLingerMakesOneWriteOfMany offers items a little apart: without a
// linger each is a write of its own, with one they are a single write,
// made when the linger ends after the first.
func TestLingerMakesOneWriteOfMany(t *testing.T) {
	for _, c := range []struct {
		linger time.Duration
		want   [][]int
	}{
		{0, [][]int{{1}, {2}, {3}}},
		{time.Second, [][]int{{1, 2, 3}}},
	} {
		synctest.Test(t, func(t *testing.T) {
			var w writes
			q := New("test", 16, c.linger, slog.Default(), w.write)
			for i := 1; i <= 3; i++ {
				q.Offer(i)
				time.Sleep(100 * time.Millisecond)
				synctest.Wait()
			}
			time.Sleep(time.Second)
			synctest.Wait()
			require.Equal(t, c.want, w.got(), "linger %v", c.linger)
			require.NoError(t, q.Close(context.Background()))
		})
	}
}

// TestCloseEndsTheLinger closes a queue that lingers on one item: it is
// written at once, not when the linger would have ended.
func TestCloseEndsTheLinger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var w writes
		q := New("test", 16, time.Hour, slog.Default(), w.write)
		q.Offer(1)
		start := time.Now()
		require.NoError(t, q.Close(context.Background()))
		require.Equal(t, [][]int{{1}}, w.got())
		require.Zero(t, time.Since(start), "no wait for the linger")
		require.Zero(t, q.Lost())
	})
}

// TestLingerEndsWhenABatchWaits offers a batch's worth of items while the
// queue lingers on its first: they are written at once, not when the
// linger would have ended.
func TestLingerEndsWhenABatchWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var w writes
		q := New("test", 4, time.Hour, slog.Default(), w.write)
		q.Offer(0)
		synctest.Wait()
		require.Empty(t, w.got(), "lingering")
		for i := 1; i <= 4; i++ {
			q.Offer(i)
		}
		synctest.Wait()
		require.Equal(t, [][]int{{0, 1, 2, 3}}, w.got(), "the first batch")
		require.NoError(t, q.Close(context.Background()))
		require.Equal(t, [][]int{{0, 1, 2, 3}, {4}}, w.got())
		require.Zero(t, q.Lost())
	})
}
