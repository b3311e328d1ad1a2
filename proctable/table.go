// Package proctable keeps vigil's view of the machine's processes: who
// started whom, what each one runs and ran before, and how it ended. It is
// seeded from /proc and kept current by the sensor's fork, exec and exit
// events, within a bounded size.
package proctable

import (
	"container/list"
	"iter"
	"path/filepath"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/vigil-otel/vigil/event"
)

// DefaultCapacity bounds the table when New is given no capacity.
const DefaultCapacity = 65536

// maxExecChain bounds how many earlier executables a process remembers.
const maxExecChain = 8

// Process is what the table knows of one process.
type Process struct {
	PID  uint32
	PPID uint32
	// Exe is the path of the program the process runs.
	Exe string
	// Args is its argument list, argv[0] first.
	Args []string
	// Start is when the process was created (fork), or its start time in
	// procfs for processes older than vigil.
	Start time.Time
	// ExecChain lists the programs the process ran before Exe, oldest
	// first, at most 8: a shell that execs a tool has the shell here.
	ExecChain []string
	// Exec is the last exec event of the process, nil for a process that
	// has not exec'd since vigil started. A forked child shares its
	// parent's until it execs.
	Exec *event.Event

	// Trace is the trace context the process runs in: the one its own
	// environment named at its last exec (TRACEPARENT, TRACESTATE), or else
	// its parent's. Invalid when it runs in none.
	Trace trace.SpanContext

	// Exit only.
	Exited   bool
	ExitCode int
	// Lifetime is from Start to the exit.
	Lifetime time.Duration

	elem *list.Element
}

// PrevExe returns the program the process ran before its last exec, or ""
// when it has exec'd once or not at all.
func (p *Process) PrevExe() string {
	if len(p.ExecChain) == 0 {
		return ""
	}
	return p.ExecChain[len(p.ExecChain)-1]
}

// Table maps process ids to processes. It is not safe for concurrent use:
// one goroutine applies the sensor's events in order.
type Table struct {
	procs    map[uint32]*Process
	lru      *list.List // most recently used first
	capacity int
	proc     procfs

	// forget, when set, hears of each process dropped other than at its
	// exit; now is the time of the event being applied, which it is told.
	forget func(p *Process, at time.Time)
	now    time.Time

	evictions uint64
	// badTraceparents counts execs whose TRACEPARENT was not valid.
	badTraceparents uint64
}

// New returns an empty table of at most capacity processes (0 for
// DefaultCapacity) that reads missing processes from the procfs mounted at
// procRoot (normally "/proc"); with procRoot "", it knows only what events
// tell it, as when replaying a recording.
func New(procRoot string, capacity int) (*Table, error) {
	fs, err := newProcfs(procRoot)
	if err != nil {
		return nil, err
	}
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Table{procs: make(map[uint32]*Process), lru: list.New(), capacity: capacity, proc: fs}, nil
}

// OnForget has f called with each process the table drops other than at
// its exit: the least recently used one, evicted to make room, or one
// whose PID a new process took, its exit never seen. at is the time of
// the event the table was applying (zero during Seed). What the caller
// keeps of the process ends there; f must not use the table.
func (t *Table) OnForget(f func(p *Process, at time.Time)) { t.forget = f }

// Seed adds every process now in procfs. Call it after the sensor is
// attached, so that nothing started in between is missed; events applied
// afterwards override what Seed read.
func (t *Table) Seed() error {
	pids, err := t.proc.pids()
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if p, err := t.proc.read(pid); err == nil {
			t.put(p)
		}
	}
	return nil
}

// Apply updates the table with ev and returns the process it concerns as
// it is after the event; for an exit, the process as it ended, no longer in
// the table.
func (t *Table) Apply(ev *event.Event) *Process {
	t.now = ev.Time
	switch ev.Kind {
	case event.KindFork:
		child := &Process{PID: ev.PID, PPID: ev.PPID, Start: ev.Time}
		// A fork runs its parent's program, in its trace, until it execs.
		if parent := t.Lookup(ev.PPID); parent != nil {
			child.Exe, child.Args, child.Exec = parent.Exe, parent.Args, parent.Exec
			child.Trace = parent.Trace
		}
		t.put(child)
		return child
	case event.KindExec:
		p := t.get(ev.PID)
		if p == nil {
			p = &Process{PID: ev.PID, Start: ev.Time}
			t.put(p)
		} else if p.Exe != "" {
			p.ExecChain = append(p.ExecChain, p.Exe)
			if len(p.ExecChain) > maxExecChain {
				p.ExecChain = p.ExecChain[1:]
			}
		}
		p.PPID = ev.PPID
		p.Exe = exePath(ev)
		p.Args = ev.Args
		p.Exec = ev
		t.applyTrace(p, ev)
		return p
	case event.KindExit:
		p := t.get(ev.PID)
		if p == nil {
			p = &Process{PID: ev.PID, PPID: ev.PPID}
		} else {
			t.remove(p)
		}
		p.Exited = true
		p.ExitCode = ev.ExitCode()
		if !p.Start.IsZero() {
			p.Lifetime = ev.Time.Sub(p.Start)
		}
		return p
	}
	return nil
}

// Lookup returns the process with pid, reading procfs for one the table
// has not seen, or nil when it is gone.
func (t *Table) Lookup(pid uint32) *Process {
	if p := t.get(pid); p != nil {
		return p
	}
	p, err := t.proc.read(pid)
	if err != nil {
		return nil
	}
	t.put(p)
	return p
}

// Ancestry returns the ancestors of p, its parent first, up to max of
// them or to the first process the table cannot find.
func (t *Table) Ancestry(p *Process, max int) []*Process {
	var out []*Process
	for len(out) < max && p.PPID != 0 && p.PPID != p.PID {
		parent := t.Lookup(p.PPID)
		if parent == nil {
			break
		}
		out = append(out, parent)
		p = parent
	}
	return out
}

// applyTrace sets the trace context of a process that just exec'd: its
// own environment's when valid, else what it inherited. A TRACEPARENT that
// is not valid is counted and ignored, never trusted.
func (t *Table) applyTrace(p *Process, ev *event.Event) {
	sc, named := envTraceContext(ev.Env)
	switch {
	case sc.IsValid():
		p.Trace = sc
		return
	case named:
		t.badTraceparents++
	}
	if !p.Trace.IsValid() {
		// Known from procfs rather than from its fork: its parent tells.
		if parent := t.Lookup(p.PPID); parent != nil && parent != p {
			p.Trace = parent.Trace
		}
	}
}

// BadTraceparents returns how many execs named a trace context in their
// environment that was not valid W3C trace context.
func (t *Table) BadTraceparents() uint64 { return t.badTraceparents }

// All yields every process in the table, most recently used first. The
// table must not change during the iteration.
func (t *Table) All() iter.Seq[*Process] {
	return func(yield func(*Process) bool) {
		for e := t.lru.Front(); e != nil; e = e.Next() {
			if !yield(e.Value.(*Process)) {
				return
			}
		}
	}
}

// Len returns the number of processes in the table.
func (t *Table) Len() int { return len(t.procs) }

// Evictions returns how many processes were dropped, least recently used
// first, to keep the table within its capacity.
func (t *Table) Evictions() uint64 { return t.evictions }

// get returns the process with pid, marking it used.
func (t *Table) get(pid uint32) *Process {
	p := t.procs[pid]
	if p != nil {
		t.lru.MoveToFront(p.elem)
	}
	return p
}

// put adds or replaces a process, evicting the least recently used one
// when the table is full. Either is forgotten.
func (t *Table) put(p *Process) {
	if old := t.procs[p.PID]; old != nil {
		t.remove(old)
		t.forgotten(old)
	}
	if len(t.procs) >= t.capacity {
		old := t.lru.Back().Value.(*Process)
		t.remove(old)
		t.evictions++
		t.forgotten(old)
	}
	p.elem = t.lru.PushFront(p)
	t.procs[p.PID] = p
}

// forgotten tells OnForget's function of p.
func (t *Table) forgotten(p *Process) {
	if t.forget != nil {
		t.forget(p, t.now)
	}
}

func (t *Table) remove(p *Process) {
	t.lru.Remove(p.elem)
	delete(t.procs, p.PID)
}

// exePath returns the absolute path of the program an exec started: the
// path the kernel resolved, or, from a recording that lacks it, the path
// as given to execve.
func exePath(ev *event.Event) string {
	if ev.ExePath != "" {
		return ev.ExePath
	}
	return filepath.Clean(ev.Filename)
}
