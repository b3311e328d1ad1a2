package describe

import (
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

// The lines of the processes that are ancestors of detections are kept,
// by process and exec, at most maxLines of them. Each key keeps its
// process and exec in memory, arguments included: a few hundred are the
// ancestors of a busy machine's detections. That also keeps a process's
// address from being another's while its line is kept.
const maxLines = 256

// lineKey is a process at one of its execs: the table keeps a process's
// entry across its execs, and its line changes with each.
type lineKey struct {
	proc *proctable.Process
	exec *event.Event
}
