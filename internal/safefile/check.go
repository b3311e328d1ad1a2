package safefile

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Check returns an [*Error] unless no user but a trusted one can change
// the file or directory at path: it and every directory above it must be
// owned by a trusted user, and it must be writable by no one else. Above
// it, a directory others may write is accepted when it has the sticky bit
// (/tmp): they cannot rename or remove what is not theirs. A symbolic
// link is followed, when a trusted user owns it, and its target checked
// in turn.
//
// Check is for what vigil reads its instructions from (recipes): what it
// accepts can be changed afterwards only by a trusted user, so reading it
// by name later is safe. For a directory, Check says nothing of what is
// in it: check each file that will be read.
func (p Policy) Check(path string) error {
	next := path
	for range maxLinks {
		d, name, err := p.parent(path, next)
		if err != nil {
			return err
		}
		var st unix.Stat_t
		err = unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		switch {
		case err != nil:
			d.close()
			return &os.PathError{Op: "stat", Path: path, Err: err}
		case st.Mode&unix.S_IFMT == unix.S_IFLNK:
			next, err = p.readLink(path, d, name, &st)
			d.close()
			if err != nil {
				return err
			}
			continue
		}
		defer d.close()
		return p.checkLeaf(path, d, name)
	}
	return refuse(path, "it goes through more than %d symbolic links", maxLinks)
}

// checkLeaf checks the last element of a path Check walked, opened
// without following a link, so that what is checked is what was walked to.
func (p Policy) checkLeaf(path string, d dir, name string) error {
	fd, err := unix.Openat(d.fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: path, Err: err}
	}
	what := "it is"
	if real := filepath.Join(d.path, name); real != filepath.Clean(path) {
		what = real + " is"
	}
	perm := st.Mode & 0o7777
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return refuse(path, "%s a symbolic link put there while it was checked", what)
	case !p.trusts(st.Uid):
		return refuse(path, "%s owned by uid %d, not by %s", what, st.Uid, p.owners())
	case writers(perm) != "":
		return refuse(path, "%s writable by %s (mode %04o)", what, writers(perm), perm)
	}
	return nil
}
