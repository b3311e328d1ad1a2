// Package outqueue feeds an output from a bounded buffer, in a goroutine of
// its own, so that no output holds up the one goroutine that reads the
// kernel's events: whatever the output does (write to a pipe nobody reads,
// to a full disk, to a closed terminal), the caller goes on at once. What
// does not fit, or what the output fails to take, is lost and counted, and
// said once when it starts and once when it stops.
package outqueue

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Queue feeds one output.
type Queue[T any] struct {
	// Name names the output in what vigil logs.
	Name  string
	ch    chan T
	write func([]T) error
	// linger is how long a write waits for more items after the first;
	// wake cuts it short, when a batch is ready or the queue closes.
	linger time.Duration
	wake   chan struct{}
	// batch is the most items a write takes.
	batch int
	log   *slog.Logger

	// mu is held to offer, and to close ch.
	mu     sync.RWMutex
	closed bool
	// lost counts the items dropped: the buffer was full, the output
	// failed them, or they were still waiting when the output was given
	// up.
	lost atomic.Uint64
	// offered counts the items offered, kept or not.
	offered atomic.Uint64
	// pending counts the items offered and not yet written or lost.
	pending atomic.Int64
	// full is set while items are dropped for want of room.
	full atomic.Bool
	// abandoned is set when close gave up waiting: the goroutine, maybe
	// stuck in a write, counts nothing more.
	abandoned atomic.Bool
	done      chan struct{}
}

// maxBatch bounds how many items one write takes.
const maxBatch = 512

// New starts the goroutine of an output named name, holding up to size
// items that write takes, in order, as many at a time as wait (at most
// 512). With a linger, a write waits that long after its first item for
// more, unless a batch's worth waits or the queue closes first: an output
// whose every write costs much whatever it holds (a request to a
// Collector) then makes one of many items rather than many of one. write
// must not keep the slice it is given.
func New[T any](name string, size int, linger time.Duration, log *slog.Logger, write func([]T) error) *Queue[T] {
	q := &Queue[T]{Name: name, ch: make(chan T, size), write: write, linger: linger, wake: make(chan struct{}, 1),
		batch: min(maxBatch, size), log: log, done: make(chan struct{})}
	go q.run()
	return q
}

// Offer hands v to the output unless its buffer is full or the output is
// closed: then v is lost.
func (q *Queue[T]) Offer(v T) {
	q.offered.Add(1)
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.lost.Add(1)
		return
	}
	q.pending.Add(1)
	select {
	case q.ch <- v:
		if q.linger > 0 && len(q.ch) >= q.batch {
			q.signal()
		}
	default:
		q.pending.Add(-1)
		q.lost.Add(1)
		if !q.full.Swap(true) {
			q.log.Warn("an output does not keep up: what it cannot take is dropped and counted until it does",
				"output", q.Name, "buffer", cap(q.ch))
		}
	}
}

func (q *Queue[T]) run() {
	defer close(q.done)
	batch := make([]T, 0, q.batch)
	var linger *time.Timer
	if q.linger > 0 {
		linger = time.NewTimer(q.linger)
		linger.Stop()
	}
	var failing time.Time
	for v := range q.ch {
		if linger != nil && len(q.ch)+1 < q.batch {
			// The goroutine sleeps while it lingers rather than wake for
			// each item: a wake-up costs more than the item.
			linger.Reset(q.linger)
			select {
			case <-linger.C:
			case <-q.wake:
				linger.Stop()
			}
		}
		batch = append(batch[:0], v)
	more:
		for len(batch) < cap(batch) {
			select {
			case v, ok := <-q.ch:
				if !ok {
					break more
				}
				batch = append(batch, v)
			default:
				break more
			}
		}
		err := q.write(batch)
		clear(batch)
		if q.abandoned.Load() {
			return
		}
		switch {
		case err != nil:
			q.lost.Add(uint64(len(batch)))
			if failing.IsZero() {
				failing = time.Now()
				q.log.Warn("an output fails: what it cannot take is dropped and counted until it works again",
					"output", q.Name, "error", err)
			}
		case !failing.IsZero():
			q.log.Warn("an output works again", "output", q.Name, "failed for", time.Since(failing).Round(time.Millisecond))
			failing = time.Time{}
		}
		q.pending.Add(-int64(len(batch)))
		if len(q.ch) == 0 && q.full.Swap(false) {
			q.log.Warn("an output keeps up again", "output", q.Name, "lost so far", q.lost.Load())
		}
	}
}

// signal cuts a linger short.
func (q *Queue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Lost is what the queue lost; 0 for a nil one, an output not asked for.
func (q *Queue[T]) Lost() uint64 {
	if q == nil {
		return 0
	}
	return q.lost.Load()
}

// Offered is how many items were offered, kept or not.
func (q *Queue[T]) Offered() uint64 { return q.offered.Load() }

// Close writes what waits and stops the goroutine. When ctx ends first,
// the output is given up: what it has not taken is lost.
func (q *Queue[T]) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
		q.signal()
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		q.abandoned.Store(true)
		q.lost.Add(uint64(max(q.pending.Load(), 0)))
		return ctx.Err()
	}
}
