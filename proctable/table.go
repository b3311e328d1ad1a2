// Package proctable keeps vigil's view of the machine's processes: who
// started whom, and what each one runs. It is seeded from /proc and kept
// current by the sensor's fork, exec and exit events.
package proctable

import (
	"path/filepath"
	"time"

	"github.com/vigil-otel/vigil/event"
)

// Process is what the table knows of one process.
type Process struct {
	PID  uint32
	PPID uint32
	// Exe is the path of the program the process runs.
	Exe string
	// Args is its argument list, argv[0] first.
	Args []string
	// Start is when the process was created (fork), or when it was first
	// seen for processes older than vigil.
	Start time.Time
}

// Table maps process ids to processes. It is not safe for concurrent use:
// one goroutine applies the sensor's events in order.
type Table struct {
	procs map[uint32]*Process
	proc  procfs
}

// New returns an empty table that reads missing processes from the procfs
// mounted at procRoot (normally "/proc").
func New(procRoot string) (*Table, error) {
	fs, err := newProcfs(procRoot)
	if err != nil {
		return nil, err
	}
	return &Table{procs: make(map[uint32]*Process), proc: fs}, nil
}

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
			t.procs[pid] = p
		}
	}
	return nil
}

// Apply updates the table with ev and returns the process it concerns as
// it is after the event (for an exit, as it was before).
func (t *Table) Apply(ev *event.Event) *Process {
	switch ev.Kind {
	case event.KindFork:
		child := &Process{PID: ev.PID, PPID: ev.PPID, Start: ev.Time}
		// A fork runs its parent's program until it execs.
		if parent := t.Lookup(ev.PPID); parent != nil {
			child.Exe, child.Args = parent.Exe, parent.Args
		}
		t.procs[ev.PID] = child
		return child
	case event.KindExec:
		p := t.procs[ev.PID]
		if p == nil {
			p = &Process{PID: ev.PID, Start: ev.Time}
			t.procs[ev.PID] = p
		}
		p.PPID = ev.PPID
		p.Exe = t.exePath(ev)
		p.Args = ev.Args
		return p
	case event.KindExit:
		p := t.procs[ev.PID]
		delete(t.procs, ev.PID)
		if p == nil {
			p = &Process{PID: ev.PID, PPID: ev.PPID}
		}
		return p
	}
	return nil
}

// Lookup returns the process with pid, reading procfs for one the table
// has not seen, or nil when it is gone.
func (t *Table) Lookup(pid uint32) *Process {
	if p, ok := t.procs[pid]; ok {
		return p
	}
	p, err := t.proc.read(pid)
	if err != nil {
		return nil
	}
	t.procs[pid] = p
	return p
}

// Len returns the number of processes in the table.
func (t *Table) Len() int { return len(t.procs) }

// exePath returns the absolute path of the program an exec started. The
// sensor reports the path as given to execve; a relative one is resolved
// through procfs while the process still runs.
func (t *Table) exePath(ev *event.Event) string {
	if filepath.IsAbs(ev.Filename) {
		return filepath.Clean(ev.Filename)
	}
	if exe, err := t.proc.exe(ev.PID); err == nil {
		return exe
	}
	return ev.Filename
}
