package recipe

import (
	"encoding/binary"
	"slices"
)

// How the engine applies a recipe's limit: a window per key, the key what
// the limit counts by.
//
// Any process can bring keys of its own at will (a program of a path never
// seen, a new process), so the windows are kept such that a match costs
// the same whatever their number, and their memory is bounded:
//
//   - A window is found by a hash of its key, seeded at random so that no
//     process can make its key pass for another's; the key itself is not
//     kept, which bounds what a long path or ancestry costs.
//   - Windows are queued in the order they began, which is the order they
//     run out in: those that ran out are forgotten from the queue's front,
//     each once, as matches come.
//   - Past maxLimitKeys live windows, the oldest is forgotten before its
//     time, and counted (Engine.LimitEvictions): its key may then report
//     again sooner than the limit says. That is loud, not silent: a flood
//     of keys makes a recipe report more, never less, and each new key of
//     the flood is reported anyway.

// maxLimitKeys bounds the windows of one recipe's limit: about 300 KiB
// when full (map and queue), so that even a flood that filled every
// limited recipe of the catalog would cost vigil tens of MiB. A recipe
// that reports more keys than this in one window is flooded already.
const maxLimitKeys = 4096

// limiter is what the engine keeps of one recipe's limit.
type limiter struct {
	// windows counts reports by key hash in the current window.
	windows map[uint64]window
	// queue holds the windows by start, oldest first, from head on. A
	// key whose window ran out and began again is queued twice: the
	// entry whose start is no longer its window's is passed over.
	queue []began
	head  int
}

// window counts a limit's reports for one key since start (Unix ns).
type window struct {
	start int64
	count int
}

// began is a window in the queue: its key's hash and its start.
type began struct {
	key   uint64
	start int64
}

// allow applies the recipe's limit to one more match. It allocates only
// when the queue or the map grows.
func (e *Engine) allow(c *entry, in *Input) bool {
	l := c.limit
	if l == nil {
		return true
	}
	lim := &c.limiter
	if lim.windows == nil {
		lim.windows = make(map[uint64]window)
	}
	now, span := in.Event.Time.UnixNano(), int64(l.Window)
	lim.expire(now, span)
	key := e.limitKey(l.Per, in)
	w, ok := lim.windows[key]
	if !ok || now-w.start >= span || now < w.start {
		if !ok && len(lim.windows) >= maxLimitKeys {
			lim.evictOldest()
			e.limitEvictions++
		}
		w = window{start: now}
		lim.push(began{key: key, start: now})
	}
	w.count++
	lim.windows[key] = w
	return w.count <= l.Count
}

// expire forgets the windows at the front of the queue that ran out by
// now. Events come in nearly the order they happened: a window queued a
// little out of order is forgotten a little late.
func (l *limiter) expire(now, span int64) {
	for l.head < len(l.queue) && now-l.queue[l.head].start >= span {
		l.pop()
	}
}

// evictOldest forgets the oldest live window.
func (l *limiter) evictOldest() {
	for l.head < len(l.queue) && !l.pop() {
	}
}

// pop takes the queue's front off, forgets its window if it is still its
// key's, and says whether it was.
func (l *limiter) pop() bool {
	b := l.queue[l.head]
	l.head++
	if l.passedOver(b) {
		return false
	}
	delete(l.windows, b.key)
	return true
}

// push queues a window that begins. The front taken off is reclaimed
// once it is half the queue, and the entries passed over once the queue
// is twice as long as the windows can be: each entry is moved a bounded
// number of times.
func (l *limiter) push(b began) {
	if l.head > 0 && l.head >= len(l.queue)/2 {
		l.queue = l.queue[:copy(l.queue, l.queue[l.head:])]
		l.head = 0
	}
	if len(l.queue) >= 2*maxLimitKeys {
		l.queue = slices.DeleteFunc(l.queue[l.head:], l.passedOver)
		l.head = 0
	}
	l.queue = append(l.queue, b)
}

// passedOver says whether a queued window is no longer its key's.
func (l *limiter) passedOver(b began) bool {
	w, ok := l.windows[b.key]
	return !ok || w.start != b.start
}

// limitKey hashes what a limit counting per counts in by.
func (e *Engine) limitKey(per LimitKey, in *Input) uint64 {
	h := &e.hash
	h.Reset()
	switch per {
	case PerExecutable:
		h.WriteString(in.Process.Exe)
	case PerParent:
		if p := in.parent(); p != nil {
			h.WriteString(p.Exe)
		}
	case PerAncestry:
		for p, n := in.Process, 0; n < maxAncestry; n++ {
			if p = in.up(p); p == nil {
				break
			}
			h.WriteString(p.Exe)
			h.WriteByte('\n')
		}
	case PerProcess:
		var pid [4]byte
		binary.LittleEndian.PutUint32(pid[:], in.Process.PID)
		h.Write(pid[:])
	}
	return h.Sum64()
}
