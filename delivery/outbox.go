package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// ErrClosed is returned by Flush when the outbox closed before all it
// held was delivered.
var ErrClosed = errors.New("outbox closed")

// Outbox owns the delivery of encoded requests: it holds them, in memory
// and past a bound on disk, and one goroutine sends them in order through
// a [Transport], retrying until the receiver takes each one. See the
// package documentation for what it guarantees.
type Outbox struct {
	cfg Config
	t   Transport
	log *slog.Logger

	mu sync.Mutex
	// mem holds the requests waiting in memory, oldest first; they are
	// older than all in the spool.
	mem []entry
	// memBytes measures mem and a request in flight from memory.
	memBytes int64
	queued   Count
	// spool is nil without a state directory.
	spool *spool
	// inflight is the request being sent, or retried; nil when none.
	inflight *flight
	stats    Stats
	// failingSince is when the current stretch of failures began.
	failingSince time.Time
	// The warnings already given, so that each is given once.
	warnedRefused, warnedUnwritable, warnedCorrupt bool
	// closed is set when Close begins, stopped when Close takes what is
	// left from the sender.
	closed, stopped bool
	// flushers are closed when nothing waits any more.
	flushers []chan struct{}

	// wake tells the sender there is work: a request, or files to sync.
	wake chan struct{}
	// stop is closed when the sender must stop between two sends.
	stop chan struct{}
	// cancel ends a send in progress.
	cancel context.CancelFunc
	// done is closed when the sender has returned.
	done chan struct{}
}

// flight is the request being sent.
type flight struct {
	entry
	// seg is the segment the request was read from, or nil if it came
	// from memory.
	seg *segment
	// size is its record's size in seg.
	size int64
}

// Open opens the outbox: it recovers the spool left in cfg.Dir, if any, to
// be sent first, in order, and starts the goroutine that sends through t.
func Open(cfg Config, t Transport) (*Outbox, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	o := &Outbox{
		cfg: cfg, t: t, log: cfg.Logger,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), cancel: cancel, done: make(chan struct{}),
	}
	if cfg.Dir != "" {
		s, rec, err := openSpool(cfg.Dir, cfg.segmentBytes())
		if err != nil {
			cancel()
			return nil, fmt.Errorf("open outbox: %w", err)
		}
		o.spool = s
		o.stats.Recovered = rec.pending
		o.stats.Dropped[Corrupt].add(rec.corrupt)
		if rec.corrupt.Requests > 0 {
			o.log.Warn("the spool held records a crash left unfinished; they are dropped and counted, the rest is replayed",
				"dir", cfg.Dir, "stretches", rec.corrupt.Requests, "bytes", rec.corrupt.Bytes)
		}
		if rec.pending.Requests > 0 {
			o.log.Info("replaying the detections a previous run kept in the spool",
				"dir", cfg.Dir, "requests", rec.pending.Requests, "items", rec.pending.Items)
		}
		for !s.empty() && s.usage > cfg.DiskBytes {
			o.dropSegment(Full)
		}
	}
	go o.run(ctx)
	return o, nil
}

// Put hands r to the outbox, which keeps r.Body: the caller must not
// change it afterwards. Put never waits on the receiver; a request bound
// for the spool is written there at once, not synced. When the bounds are
// reached, the oldest requests make room.
func (o *Outbox) Put(r Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e := entry{Request: r, put: o.cfg.now()}
	switch {
	case o.closed:
		o.stats.Dropped[Shutdown].add(countOf(r))
	case o.spool != nil && (!o.spool.empty() || o.stats.Failing || o.memBytes+int64(len(r.Body)) > o.cfg.MemoryBytes):
		// Behind what is on disk, or while the receiver is failing (so
		// that a crash cannot lose it), or with memory full.
		o.spill(e)
	default:
		o.remember(e)
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// remember adds e to the memory queue, dropping the oldest waiting
// requests if it does not fit.
func (o *Outbox) remember(e entry) {
	n := int64(len(e.Body))
	for len(o.mem) > 0 && o.memBytes+n > o.cfg.MemoryBytes {
		o.dropMem(Full)
	}
	if o.memBytes+n > o.cfg.MemoryBytes {
		o.stats.Dropped[Full].add(countOf(e.Request))
		return
	}
	o.mem = append(o.mem, e)
	o.memBytes += n
	o.queued.add(countOf(e.Request))
}

// dropMem drops the oldest request waiting in memory.
func (o *Outbox) dropMem(why Reason) {
	e := o.mem[0]
	o.mem[0] = entry{}
	o.mem = o.mem[1:]
	o.memBytes -= int64(len(e.Body))
	o.queued.sub(countOf(e.Request))
	o.stats.Dropped[why].add(countOf(e.Request))
}

// spill writes e to the spool, dropping its oldest segments if e does not
// fit. When the spool cannot take e and holds nothing, memory may: order
// is kept.
func (o *Outbox) spill(e entry) {
	for !o.spool.empty() && o.spool.usage+o.spool.cost(e) > o.cfg.DiskBytes {
		o.dropSegment(Full)
	}
	why := Full
	if o.spool.usage+o.spool.cost(e) <= o.cfg.DiskBytes {
		err := o.spool.append(e)
		if err == nil {
			o.warnedUnwritable = false
			return
		}
		o.warnUnwritable(err)
		why = Unwritable
	}
	if o.spool.empty() && o.memBytes+int64(len(e.Body)) <= o.cfg.MemoryBytes {
		o.remember(e)
		return
	}
	o.stats.Dropped[why].add(countOf(e.Request))
}

// dropSegment drops the rest of the spool's oldest segment. A request in
// flight from it is sent still: it moves to memory.
func (o *Outbox) dropSegment(why Reason) {
	seg := o.spool.head()
	c := seg.pending
	if f := o.inflight; f != nil && f.seg == seg {
		c.sub(countOf(f.Request))
		f.seg = nil
		o.memBytes += int64(len(f.Body))
		o.queued.add(countOf(f.Request))
	}
	o.stats.Dropped[why].add(c)
	if err := o.spool.remove(seg); err != nil {
		o.warnUnwritable(err)
	}
}

// warnUnwritable says once that the spool cannot be written, until it can.
func (o *Outbox) warnUnwritable(err error) {
	if !o.warnedUnwritable {
		o.warnedUnwritable = true
		o.log.Warn("cannot write the spool; detections that do not fit in memory are dropped and counted", "error", err)
	}
}

// Stats returns what the outbox holds and has done, as of now.
func (o *Outbox) Stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.stats
	s.Queued = o.queued
	oldest := time.Time{}
	switch {
	case o.inflight != nil:
		oldest = o.inflight.put
	case len(o.mem) > 0:
		oldest = o.mem[0].put
	case o.spool != nil && !o.spool.empty():
		oldest = o.spool.head().oldest
	}
	if !oldest.IsZero() {
		s.Oldest = max(o.cfg.now().Sub(oldest), 0)
	}
	if o.spool != nil {
		s.Spooled = o.spool.pending()
		s.DiskBytes = o.spool.usage
	}
	return s
}

// idle says whether nothing waits; then it wakes the flushers.
func (o *Outbox) idle() bool {
	if o.inflight != nil || len(o.mem) > 0 || (o.spool != nil && !o.spool.empty()) {
		return false
	}
	for _, ch := range o.flushers {
		close(ch)
	}
	o.flushers = nil
	return true
}

// Flush waits until all the outbox holds is delivered (or dropped), and
// returns ctx's error if ctx is done first, or [ErrClosed] if the outbox
// closes first. After Close it returns nil at once.
func (o *Outbox) Flush(ctx context.Context) error {
	o.mu.Lock()
	if o.stopped || o.idle() {
		o.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	o.flushers = append(o.flushers, ch)
	o.mu.Unlock()
	select {
	case <-ch:
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.stopped && !o.idle() {
			return ErrClosed
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush outbox: %w", ctx.Err())
	}
}
