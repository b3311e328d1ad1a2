package recipe

import (
	"strconv"
	"time"
)

// How the engine applies a recipe's limit: a window per key, the key
// what the limit counts by.

// window counts a limit's reports for one key since start.
type window struct {
	start time.Time
	count int
}

// allow applies the recipe's limit to one more match. Only the first
// match of a key in a window allocates (the key and its window).
func (e *Engine) allow(c *entry, in *Input) bool {
	l := c.limit
	if l == nil {
		return true
	}
	e.key = appendLimitKey(e.key[:0], l.Per, in)
	if c.windows == nil {
		c.windows = make(map[string]*window)
	}
	now := in.Event.Time
	w := c.windows[string(e.key)]
	if w == nil || now.Sub(w.start) >= l.Window || now.Before(w.start) {
		// A new window; forget the others that have run out, so the map
		// stays as small as the set of recent keys.
		for k, old := range c.windows {
			if now.Sub(old.start) >= l.Window {
				delete(c.windows, k)
			}
		}
		w = &window{start: now}
		c.windows[string(e.key)] = w
	}
	w.count++
	return w.count <= l.Count
}

// appendLimitKey appends to b what a limit counting per counts in by.
func appendLimitKey(b []byte, per LimitKey, in *Input) []byte {
	switch per {
	case PerExecutable:
		return append(b, in.Process.Exe...)
	case PerParent:
		if p := in.parent(); p != nil {
			return append(b, p.Exe...)
		}
	case PerAncestry:
		for p, n := in.Process, 0; n < maxAncestry; n++ {
			if p = in.up(p); p == nil {
				break
			}
			b = append(append(b, p.Exe...), '\n')
		}
	case PerProcess:
		return strconv.AppendUint(b, uint64(in.Process.PID), 10)
	}
	return b
}
