package safefile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// maxLinks bounds the symbolic links one path may go through, as the
// kernel's own bound (MAXSYMLINKS) does.
const maxLinks = 40

// dir is a directory reached by a checked walk: a descriptor opened
// with O_PATH, and the path it was reached by, free of symbolic links.
type dir struct {
	fd   int
	path string
}

func (d dir) close() { _ = unix.Close(d.fd) }

// parent opens the directory that holds path's last element, having
// checked every directory from / down to it and every symbolic link
// followed on the way (see checkDir), and returns it with that element's
// name. A relative path starts at the working directory, whose own
// ancestors are checked too. asked is the path as the user gave it, for
// errors.
func (p Policy) parent(asked, path string) (dir, string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return dir{}, "", fmt.Errorf("%s: %w", asked, err)
	}
	for range maxLinks {
		d, name, next, err := p.walk(asked, abs)
		if err != nil || next == "" {
			return d, name, err
		}
		abs = next
	}
	return dir{}, "", refuse(asked, "it goes through more than %d symbolic links", maxLinks)
}

// walk goes down the clean absolute path abs from /, one descriptor at a
// time, checking each directory. At the first symbolic link before the
// last element it stops and returns next: abs with that link replaced by
// its target, to walk again from /.
func (p Policy) walk(asked, abs string) (d dir, name, next string, err error) {
	parentPath, name := filepath.Split(abs)
	if name == "" {
		return dir{}, "", "", refuse(asked, "the root directory is not a file")
	}
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return dir{}, "", "", &os.PathError{Op: "open", Path: "/", Err: err}
	}
	d = dir{fd: fd, path: "/"}
	if err := p.checkDir(asked, d); err != nil {
		d.close()
		return dir{}, "", "", err
	}
	elems := strings.Split(strings.Trim(parentPath, "/"), "/")
	if parentPath == "/" {
		elems = nil
	}
	for i, e := range elems {
		var st unix.Stat_t
		if err := unix.Fstatat(d.fd, e, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			d.close()
			return dir{}, "", "", &os.PathError{Op: "stat", Path: filepath.Join(d.path, e), Err: err}
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			target, err := p.readLink(asked, d, e, &st)
			d.close()
			if err != nil {
				return dir{}, "", "", err
			}
			// The walked path holds no link: ".." in the target is
			// resolved in it by name, as the kernel would.
			rest := append(append([]string{target}, elems[i+1:]...), name)
			return dir{}, "", filepath.Join(rest...), nil
		}
		nfd, err := unix.Openat(d.fd, e, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		sub := filepath.Join(d.path, e)
		d.close()
		if err != nil {
			// A link put there since the stat is refused here too.
			return dir{}, "", "", &os.PathError{Op: "open", Path: sub, Err: err}
		}
		d = dir{fd: nfd, path: sub}
		if err := p.checkDir(asked, d); err != nil {
			d.close()
			return dir{}, "", "", err
		}
	}
	return d, name, "", nil
}

// readLink returns the target of the symbolic link name in d, whose
// lstat is st, as an absolute path. The link must be a trusted user's:
// in a directory others may write (/tmp), anyone may plant one.
func (p Policy) readLink(asked string, d dir, name string, st *unix.Stat_t) (string, error) {
	path := filepath.Join(d.path, name)
	if !p.trusts(st.Uid) {
		return "", refuse(asked, "it goes through the symbolic link %s, owned by uid %d, not by %s", path, st.Uid, p.owners())
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(d.fd, name, buf)
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: path, Err: err}
	}
	target := string(buf[:n])
	if !filepath.IsAbs(target) {
		target = filepath.Join(d.path, target)
	}
	return target, nil
}

// checkDir refuses a directory above a file vigil uses that another user
// could change: owned by someone vigil does not trust, or writable by
// others without the sticky bit, which would let them rename what is in
// it and put something of theirs in its place.
func (p Policy) checkDir(asked string, d dir) error {
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: d.path, Err: err}
	}
	if !p.trusts(st.Uid) {
		return refuse(asked, "its directory %s is owned by uid %d, not by %s", d.path, st.Uid, p.owners())
	}
	if w := writers(st.Mode); w != "" && st.Mode&unix.S_ISVTX == 0 {
		return refuse(asked, "its directory %s is writable by %s, without the sticky bit (mode %04o)", d.path, w, st.Mode&0o7777)
	}
	return nil
}
