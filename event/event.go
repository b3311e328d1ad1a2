// Package event defines what the sensor reports about processes: the typed,
// decoded form of the kernel's records that every later stage works on.
//
// The JSON form of an Event is the sensor's recording format.
package event

import "time"

// Kind says what happened to a process.
type Kind uint8

// The kinds of events the sensor reports.
const (
	KindExec Kind = iota + 1
	KindFork
	KindExit
)

// String returns the kind's lower-case name.
func (k Kind) String() string {
	switch k {
	case KindExec:
		return "exec"
	case KindFork:
		return "fork"
	case KindExit:
		return "exit"
	}
	return "unknown"
}

// Event is one exec, fork or exit. The fields after the common ones are
// filled for the kinds their comments name.
type Event struct {
	Kind Kind      `json:"kind"`
	Time time.Time `json:"time"`
	// PID is the process id (the kernel's tgid).
	PID uint32 `json:"pid"`
	// PPID is the process id of the parent at the time of the event.
	PPID uint32 `json:"ppid"`

	// Exec: the thread that called execve, which may differ from PID when a
	// non-leader thread execs.
	TID uint32 `json:"tid,omitempty"`
	// Exec: real user and group ids after the exec.
	UID uint32 `json:"uid"`
	GID uint32 `json:"gid"`
	// Exec: the task's command name (at most 15 bytes).
	Comm string `json:"comm,omitempty"`
	// Exec: the program path as given to execve.
	Filename string `json:"filename,omitempty"`
	// Exec: the arguments, argv[0] first, bounded by the sensor's limits.
	Args []string `json:"args,omitempty"`
	// Exec: the real number of arguments, which exceeds len(Args) when
	// ArgsTruncated is set.
	Argc uint32 `json:"argc,omitempty"`
	// Exec: argv was cut at the sensor's byte or count bound.
	ArgsTruncated bool `json:"args_truncated,omitempty"`

	// Exit: the wait status, (code << 8) | signal.
	ExitStatus uint32 `json:"exit_status,omitempty"`
}

// ExitCode returns the process's exit code, or 128+signal when a signal
// ended it, as shells report it.
func (e *Event) ExitCode() int {
	if sig := e.ExitStatus & 0x7f; sig != 0 {
		return 128 + int(sig)
	}
	return int(e.ExitStatus>>8) & 0xff
}
