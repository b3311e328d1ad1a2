package delivery

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"time"
)

// run is the sender: it sends the oldest request until the receiver takes
// it, then the next, and between sends syncs the spool's full segments.
func (o *Outbox) run(ctx context.Context) {
	defer close(o.done)
	wait := o.cfg.Backoff.Initial
	for {
		o.syncSpool()
		f := o.next()
		if f == nil {
			select {
			case <-o.wake:
				continue
			case <-o.stop:
				return
			}
		}
		rejected, err := o.t.Send(ctx, f.Request)
		if ctx.Err() != nil {
			// Close took over what was left.
			return
		}
		if !o.settle(f, rejected, err) {
			wait = o.cfg.Backoff.Initial
			continue
		}
		timer := time.NewTimer(jitter(wait, o.cfg.Backoff.Max))
		wait = min(2*wait, o.cfg.Backoff.Max)
		if !o.sleep(timer) {
			return
		}
	}
}

// sleep waits for timer, syncing the spool when woken meanwhile, and
// returns false if the sender must stop.
func (o *Outbox) sleep(timer *time.Timer) bool {
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			return true
		case <-o.wake:
			o.syncSpool()
		case <-o.stop:
			return false
		}
	}
}

// jitter returns d randomised by half of itself either way, at most
// limit.
func jitter(d, limit time.Duration) time.Duration {
	return min(d/2+rand.N(d+1), limit)
}

// next returns the request to send: the one being retried, or the oldest
// waiting, dropping those too old or unreadable. It returns nil when none
// waits.
func (o *Outbox) next() *flight {
	o.mu.Lock()
	defer o.mu.Unlock()
	for !o.stopped {
		if o.inflight == nil && !o.take() {
			o.idle()
			return nil
		}
		f := o.inflight
		if o.cfg.now().Sub(f.put) <= o.cfg.MaxAge {
			return f
		}
		o.stats.Dropped[TooOld].add(countOf(f.Request))
		o.finish(f)
	}
	return nil
}

// take makes the oldest waiting request the one in flight, and says
// whether there was one.
func (o *Outbox) take() bool {
	if len(o.mem) > 0 {
		o.inflight = &flight{entry: o.mem[0]}
		o.mem[0] = entry{}
		o.mem = o.mem[1:]
		return true
	}
	for o.spool != nil && !o.spool.empty() {
		seg := o.spool.head()
		e, n, err := o.spool.read(seg)
		if err == nil {
			o.inflight = &flight{entry: e, seg: seg, size: n}
			return true
		}
		if !o.warnedCorrupt {
			o.warnedCorrupt = true
			o.log.Warn("a spool segment could not be read back; the rest of it is dropped and counted",
				"error", err, "items", seg.pending.Items)
		}
		o.dropSegment(Corrupt)
	}
	return false
}

// finish takes f, delivered or dropped, off the queue.
func (o *Outbox) finish(f *flight) {
	o.inflight = nil
	if f.seg == nil {
		o.memBytes -= int64(len(f.Body))
		o.queued.sub(countOf(f.Request))
	} else if err := o.spool.advance(f.seg, f.size, countOf(f.Request)); err != nil {
		o.warnUnwritable(err)
	}
	o.idle()
}

// settle accounts for the outcome of sending f, and says whether to try
// it again after a wait.
func (o *Outbox) settle(f *flight, rejected int64, err error) (retry bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped {
		return false
	}
	var refused *Permanent
	switch {
	case err == nil:
		if o.stats.Failing {
			o.log.Warn("delivering detections to the receiver again",
				"after", o.cfg.now().Sub(o.failingSince).Round(time.Millisecond), "waited", o.waiting())
		}
		o.stats.Failing, o.warnedRefused = false, false
		c := countOf(f.Request)
		rejected = min(max(rejected, 0), c.Items)
		c.Items -= rejected
		o.stats.Delivered.add(c)
		o.stats.Dropped[Rejected].Items += rejected
		o.finish(f)
		return false
	case errors.As(err, &refused):
		if !o.warnedRefused {
			o.warnedRefused = true
			o.log.Warn("the receiver refused detections for good; they are dropped and counted, and only this first refusal is logged",
				"error", err, "items", f.Items)
		}
		o.stats.Dropped[PermanentError].add(countOf(f.Request))
		o.finish(f)
		return false
	default:
		o.stats.Retries++
		if !o.stats.Failing {
			o.stats.Failing, o.failingSince = true, o.cfg.now()
			o.log.Warn("cannot deliver detections to the receiver; keeping them and retrying", "error", err, "queued", o.waiting())
		}
		return true
	}
}

// waiting is how many items wait, in memory and on disk.
func (o *Outbox) waiting() int64 {
	n := o.queued.Items
	if o.spool != nil {
		n += o.spool.pending().Items
	}
	return n
}

// syncSpool syncs the segments closed for writing since the last call,
// and the directory that names them: what a power loss could take is then
// only the segment being written.
func (o *Outbox) syncSpool() {
	o.mu.Lock()
	if o.spool == nil || o.stopped {
		o.mu.Unlock()
		return
	}
	files := o.spool.takeUnsynced()
	o.mu.Unlock()
	if len(files) == 0 {
		return
	}
	var errs []error
	for _, f := range files {
		// A segment dropped meanwhile is closed: nothing to sync.
		if err := f.Sync(); !errors.Is(err, os.ErrClosed) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, syncDir(o.cfg.Dir))
	if err := errors.Join(errs...); err != nil {
		o.mu.Lock()
		o.warnUnwritable(err)
		o.mu.Unlock()
	}
}
