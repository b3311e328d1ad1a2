// Package safefile opens the files vigil writes, and checks the files it
// takes its instructions from, as a program that runs as root on a machine
// other users share must.
//
// vigil writes where it is told (--jsonl, --record, --report) and reads
// recipes from where it is told (--recipes). A local user who can write a
// directory on such a path can plant a symbolic link there, or a file of
// their own, and have root's vigil overwrite a file that is not vigil's,
// hand its output to that user, or run that user's recipes. So:
//
//   - [Policy.Create] opens a file for writing only when no other user can
//     change the directories above it, never through a symbolic link at
//     the end, and reuses an existing file only when it is a regular file
//     of a trusted owner that no one else may write. New files get the
//     [Mode] asked for, 0600 by default.
//   - [Policy.Check] accepts a file or directory to read instructions from
//     only when no other user can change it, nor any directory above it.
//
// Trusted users are root, vigil's effective user and, when vigil was
// started through sudo, the user who ran sudo (SUDO_UID): vigil works for
// that user, and hands them its reports. Every check is made on what was
// opened (fstat of the descriptor, directories walked one descriptor at a
// time), never on a name looked up again later.
//
// A refusal is an [*Error] naming the path and why.
package safefile

import (
	"fmt"
	"os"
	"strconv"
)

// Policy says which users vigil trusts with the files it writes and
// reads: root, UID, and the sudo user when there is one.
type Policy struct {
	// UID is vigil's effective user id.
	UID uint32
	// SudoUID, when HasSudo is set, is the user who started vigil through
	// sudo.
	SudoUID uint32
	HasSudo bool
}

// Current returns the policy of this process: its effective user, and
// the sudo user that getenv's SUDO_UID names, if it names one.
func Current(getenv func(string) string) Policy {
	p := Policy{UID: uint32(os.Geteuid())}
	if uid, err := strconv.ParseUint(getenv("SUDO_UID"), 10, 32); err == nil {
		p.SudoUID, p.HasSudo = uint32(uid), true
	}
	return p
}

// trusts says uid may own what vigil writes or reads.
func (p Policy) trusts(uid uint32) bool {
	return uid == 0 || uid == p.UID || p.HasSudo && uid == p.SudoUID
}

// owners names the trusted users, for an error message.
func (p Policy) owners() string {
	s := fmt.Sprintf("vigil (uid %d)", p.UID)
	if p.UID != 0 {
		s += ", root"
	}
	if p.HasSudo && p.SudoUID != p.UID && p.SudoUID != 0 {
		s += fmt.Sprintf(", the user who ran sudo (uid %d)", p.SudoUID)
	}
	return s
}

// Error is a refusal: the path as it was given, and why.
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string { return e.Path + ": refusing: " + e.Reason }

func refuse(path, format string, args ...any) error {
	return &Error{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// writers says who, besides the owner, may write a file of mode perm
// (permission bits); "" when no one.
func writers(perm uint32) string {
	switch {
	case perm&0o002 != 0:
		return "every user"
	case perm&0o020 != 0:
		return "its group"
	}
	return ""
}
