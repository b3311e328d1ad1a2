package safefile

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// symlinkReason is why Create refuses a symbolic link.
const symlinkReason = "it is a symbolic link, which vigil never writes through"

// Options say how Create opens a file.
type Options struct {
	// Mode is the permission bits of a new file, less the umask; an
	// existing file that grants more is narrowed to it. Zero is
	// DefaultMode.
	Mode Mode
	// Append adds to the end of an existing file rather than emptying it.
	Append bool
}

// Create opens the file at path for writing, creating it when it does not
// exist. It refuses, with an [*Error]:
//
//   - a path whose directories another user could change (see the
//     package's documentation);
//   - a symbolic link at the end of the path, whatever it points at;
//   - an existing regular file that has other names (hard links), is
//     owned by a user vigil does not trust, or is writable by its group or
//     other users; a named pipe likewise, or one that nobody reads yet; a
//     device that root does not own (only root makes devices: /dev/null
//     and terminals are written as they are); anything else.
//
// A regular file is emptied only once it is accepted, so a refused file
// is left as it was.
func (p Policy) Create(path string, o Options) (*os.File, error) {
	d, name, err := p.parent(path, path)
	if err != nil {
		return nil, err
	}
	defer d.close()
	mode := o.Mode.orDefault()
	// O_NONBLOCK: a named pipe nobody reads fails at once (ENXIO) rather
	// than hanging vigil; it is cleared once the file is known regular.
	flags := unix.O_WRONLY | unix.O_CREAT | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC
	if o.Append {
		flags |= unix.O_APPEND
	}
	// A link is named as such: the kernel may refuse one in a sticky
	// directory (fs.protected_symlinks) as merely not permitted. One put
	// there after this look is refused by O_NOFOLLOW all the same.
	var st unix.Stat_t
	if unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return nil, refuse(path, symlinkReason)
	}
	fd, err := unix.Openat(d.fd, name, flags, uint32(mode))
	switch {
	case errors.Is(err, unix.ELOOP):
		return nil, refuse(path, symlinkReason)
	case errors.Is(err, unix.ENXIO):
		return nil, refuse(path, "it is a named pipe that nobody reads yet, or a socket")
	case err != nil:
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if err := p.accept(path, fd, mode, o.Append); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// accept checks the file Create opened as fd, then narrows its mode to
// mode and, unless appending, empties it.
func (p Policy) accept(path string, fd int, mode Mode, appending bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: path, Err: err}
	}
	perm := st.Mode & 0o7777
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFCHR:
		if st.Uid != 0 {
			return refuse(path, "it is a device owned by uid %d, not by root", st.Uid)
		}
		return stream(path, fd)
	case unix.S_IFIFO:
		if !p.trusts(st.Uid) {
			return refuse(path, "it is owned by uid %d, not by %s", st.Uid, p.owners())
		}
		if writers(perm) != "" {
			return refuse(path, "it is writable by %s (mode %04o)", writers(perm), perm)
		}
		return stream(path, fd)
	default:
		return refuse(path, "it is not a regular file, a named pipe or a device")
	}
	switch {
	case !p.trusts(st.Uid):
		return refuse(path, "it is owned by uid %d, not by %s", st.Uid, p.owners())
	case writers(perm) != "":
		return refuse(path, "it is writable by %s (mode %04o)", writers(perm), perm)
	case st.Nlink > 1:
		return refuse(path, "it has %d hard links: vigil would write a file that other names reach", st.Nlink)
	}
	if err := stream(path, fd); err != nil {
		return err
	}
	if narrow := perm & uint32(mode); narrow != perm {
		if err := unix.Fchmod(fd, narrow); err != nil {
			return &os.PathError{Op: "chmod", Path: path, Err: err}
		}
	}
	if !appending {
		if err := unix.Ftruncate(fd, 0); err != nil {
			return &os.PathError{Op: "truncate", Path: path, Err: err}
		}
	}
	return nil
}

// stream makes writes to fd, opened without blocking, block again.
func stream(path string, fd int) error {
	if err := unix.SetNonblock(fd, false); err != nil {
		return &os.PathError{Op: "fcntl", Path: path, Err: err}
	}
	return nil
}
