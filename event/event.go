// Package event defines what the sensor reports about processes: the typed,
// decoded form of the kernel's records that every later stage works on.
//
// The JSON form of an Event is the sensor's recording format.
package event

import (
	"fmt"
	"time"
)

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

// MarshalText writes the kind as its name, for readable recordings.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	for _, c := range []Kind{KindExec, KindFork, KindExit} {
		if c.String() == string(b) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("unknown event kind %q", b)
}

// Event is one exec, fork or exit. The fields after the common ones are
// filled for execs only, except ExitStatus, filled for exits.
type Event struct {
	Kind Kind      `json:"kind"`
	Time time.Time `json:"time"`
	// PID is the process id (the kernel's tgid).
	PID uint32 `json:"pid"`
	// PPID is the process id of the parent at the time of the event.
	PPID uint32 `json:"ppid"`

	// TID is the thread that called execve, which differs from PID when a
	// non-leader thread execs.
	TID uint32 `json:"tid,omitempty"`
	// VPID is the process id as seen in the process's own pid namespace.
	VPID uint32 `json:"vpid,omitempty"`

	// Credentials after the exec.
	UID  uint32 `json:"uid"`
	GID  uint32 `json:"gid"`
	EUID uint32 `json:"euid"`
	EGID uint32 `json:"egid"`
	// LoginUID is the audit login user, NoLoginUID when unset.
	LoginUID uint32 `json:"loginuid"`
	// CapEffective is the effective capability set.
	CapEffective uint64 `json:"cap_effective,omitempty"`
	// SetID says the exec changed credentials: a setuid or setgid file, or
	// file capabilities.
	SetID bool `json:"setid,omitempty"`
	// SecureExec says the kernel ran the program in secure mode (AT_SECURE).
	SecureExec bool `json:"secureexec,omitempty"`

	// Comm is the task's command name (at most 15 bytes).
	Comm string `json:"comm,omitempty"`
	// Filename is the program path as given to execve.
	Filename string `json:"filename,omitempty"`
	// ExePath is the absolute path of the file the kernel runs, symlinks
	// resolved: for a script, its interpreter.
	ExePath string `json:"exe_path,omitempty"`
	// Interpreter is the interpreter a script's #! line named, as written;
	// empty when the file executed is not a script.
	Interpreter string `json:"interpreter,omitempty"`
	// Script is the absolute path of the script, for a script.
	Script string `json:"script,omitempty"`
	// Loader says the program is the dynamic loader (ld-linux*.so*) running
	// LoaderTarget, as in `/lib64/ld-linux-x86-64.so.2 /path/prog`.
	Loader       bool   `json:"loader,omitempty"`
	LoaderTarget string `json:"loader_target,omitempty"`
	// File describes the file the kernel runs.
	File File `json:"file"`

	// Args is the argument list, argv[0] first, bounded by the sensor's limits.
	Args []string `json:"args,omitempty"`
	// Argc is the real number of arguments, which exceeds len(Args) when
	// ArgsTruncated is set.
	Argc uint32 `json:"argc,omitempty"`
	// ArgsTruncated says argv was cut at the sensor's byte or count bound.
	ArgsTruncated bool `json:"args_truncated,omitempty"`
	// Env holds the allow-listed environment variables the program got.
	Env map[string]string `json:"env,omitempty"`
	// EnvTruncated says an allow-listed variable was cut or left out.
	EnvTruncated bool `json:"env_truncated,omitempty"`

	// Cwd is the working directory.
	Cwd string `json:"cwd,omitempty"`
	// TTY is the controlling terminal ("pts/0"), empty when none: a
	// process with one is interactive.
	TTY string `json:"tty,omitempty"`
	// CgroupID and CgroupPath name the process's cgroup.
	CgroupID   uint64 `json:"cgroup_id,omitempty"`
	CgroupPath string `json:"cgroup_path,omitempty"`
	// ContainerID is the container the cgroup path places the process in,
	// empty on the host.
	ContainerID string `json:"container_id,omitempty"`
	// PodUID is the Kubernetes pod the cgroup path places the process in,
	// empty outside one.
	PodUID string `json:"pod_uid,omitempty"`
	// PIDNS and MntNS are the inode numbers of the pid and mount namespaces.
	PIDNS uint32 `json:"pidns,omitempty"`
	MntNS uint32 `json:"mntns,omitempty"`
	// PathsTruncated says the filename, a resolved path or the cgroup path
	// was too long or too deep and lost part of itself.
	PathsTruncated bool `json:"paths_truncated,omitempty"`

	// ExitStatus is the wait status, (code << 8) | signal.
	ExitStatus uint32 `json:"exit_status,omitempty"`
}

// NoLoginUID is the login user of processes outside any login session.
const NoLoginUID = ^uint32(0)

// File is what the sensor learns of the executed file's inode.
type File struct {
	Inode uint64 `json:"inode,omitempty"`
	// Dev is the device number, (major << 20) | minor as the kernel keeps it.
	Dev   uint32 `json:"dev,omitempty"`
	Nlink uint32 `json:"nlink"`
	Mode  uint32 `json:"mode,omitempty"`
	UID   uint32 `json:"uid"`
	GID   uint32 `json:"gid"`
	// Deleted says the file had no name left when it ran (nlink 0).
	Deleted bool `json:"deleted,omitempty"`
	// Memfd says the file exists only in memory (memfd_create): fileless.
	Memfd bool `json:"memfd,omitempty"`
	// Overlay says the file is on an overlay filesystem; OverlayUpper that
	// it is in the upper, writable layer: written after the image was built.
	Overlay      bool `json:"overlay,omitempty"`
	OverlayUpper bool `json:"overlay_upper,omitempty"`
	// OverlayLayerUnknown says the kernel could not tell which layer: the
	// overlay module was not loaded when vigil started, so its types were
	// unknown to the programs. OverlayUpper is then false without meaning
	// it.
	OverlayLayerUnknown bool `json:"overlay_layer_unknown,omitempty"`
	// UserWritable says the executing (real) user may write the file, by
	// its permission bits.
	UserWritable bool `json:"user_writable,omitempty"`
}

// ExitCode returns the process's exit code, or 128+signal when a signal
// ended it, as shells report it.
func (e *Event) ExitCode() int {
	if sig := e.ExitStatus & 0x7f; sig != 0 {
		return 128 + int(sig)
	}
	return int(e.ExitStatus>>8) & 0xff
}
