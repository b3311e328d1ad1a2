package describe

import (
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

// maxLines bounds the lines lineCache keeps; it starts afresh past them.
// Each keeps its process and exec in memory, arguments included, until
// then: a few hundred are the ancestors of a busy machine's detections.
const maxLines = 256

// lineKey is a process at one of its execs: the table keeps a process's
// entry across its execs, and its line changes with each.
type lineKey struct {
	proc *proctable.Process
	exec *event.Event
}

// lineCache keeps the lines of the processes that are ancestors of
// detections. The keys keep their processes from being collected, so an
// address is never another process's while its line is kept.
type lineCache map[lineKey]string

// line returns p's line, made by describe when it is not kept.
func (c *lineCache) line(p *proctable.Process, describe func(*proctable.Process) string) string {
	k := lineKey{p, p.Exec}
	if l, ok := (*c)[k]; ok {
		return l
	}
	if *c == nil || len(*c) >= maxLines {
		*c = make(lineCache)
	}
	l := describe(p)
	(*c)[k] = l
	return l
}
