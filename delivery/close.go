package delivery

import (
	"context"
	"fmt"
)

// Close delivers what the outbox holds while ctx lasts, then stops the
// sender and writes what is still in memory to the spool, ahead of what
// is already there, synced. Without a spool, what is left is dropped and
// counted (reason Shutdown) and Close says so in its error. A send still
// in progress when ctx ends is cancelled. Put after Close drops and
// counts; a second Close returns nil.
func (o *Outbox) Close(ctx context.Context) error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil
	}
	o.closed = true
	o.mu.Unlock()

	drained := o.Flush(ctx) == nil
	close(o.stop)
	if drained {
		// The sender is idle and returns at once.
		<-o.done
	} else {
		// A send that ignores its context is not waited for: its outcome
		// no longer counts, and its request is kept below.
		o.cancel()
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	o.stopped = true
	o.cancel()
	var left []entry
	if f := o.inflight; f != nil && f.seg == nil {
		left = append(left, f.entry)
	}
	left = append(left, o.mem...)
	var c Count
	for _, e := range left {
		c.add(countOf(e.Request))
	}
	o.inflight, o.mem, o.memBytes, o.queued = nil, nil, 0, Count{}
	defer o.idle()
	if o.spool == nil {
		o.stats.Dropped[Shutdown].add(c)
		if c.Items > 0 || c.Requests > 0 {
			return fmt.Errorf("close outbox: %d requests (%d items) undelivered, and no state directory to keep them: %w",
				c.Requests, c.Items, context.Cause(ctx))
		}
		return nil
	}
	var err error
	if len(left) > 0 {
		if err = o.spool.prepend(left); err != nil {
			o.stats.Dropped[Unwritable].add(c)
		}
	}
	if cerr := o.spool.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close outbox: %w", err)
	}
	return nil
}
