package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// nobody is a user vigil does not trust.
const nobody = 65534

// needRoot skips a test that gives files to another user.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root")
	}
}

// withUmask sets the umask for one test.
func withUmask(t *testing.T, mask int) {
	t.Helper()
	old := unix.Umask(mask)
	t.Cleanup(func() { unix.Umask(old) })
}

// self trusts only this process's user (and root).
func self() Policy { return Policy{UID: uint32(os.Geteuid())} }

// requireRefused asserts err is a refusal of path with that reason.
func requireRefused(t *testing.T, err error, path, reason string) {
	t.Helper()
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, path, e.Path)
	require.Equal(t, reason, e.Reason)
}

func requireContent(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, want, string(b))
}

func requireMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	st, err := os.Lstat(path)
	require.NoError(t, err)
	require.Equal(t, want, st.Mode().Perm())
}

func write(t *testing.T, f *os.File, s string) {
	t.Helper()
	_, err := f.WriteString(s)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func TestCreateNewFile(t *testing.T) {
	withUmask(t, 0o022)
	dir := t.TempDir()
	for _, tc := range []struct {
		mode Mode
		want fs.FileMode
	}{{0, 0o600}, {DefaultMode, 0o600}, {0o640, 0o640}, {0o644, 0o644}} {
		path := filepath.Join(dir, "out-"+tc.mode.String())
		f, err := self().Create(path, Options{Mode: tc.mode})
		require.NoError(t, err)
		write(t, f, "line\n")
		requireContent(t, path, "line\n")
		requireMode(t, path, tc.want)
	}
}

func TestCreateReusesItsOwnFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jsonl")
	require.NoError(t, os.WriteFile(path, []byte("old\n"), 0o644))

	f, err := self().Create(path, Options{Append: true})
	require.NoError(t, err)
	write(t, f, "more\n")
	requireContent(t, path, "old\nmore\n")
	requireMode(t, path, 0o600)

	require.NoError(t, os.Chmod(path, 0o644))
	f, err = self().Create(path, Options{Mode: 0o640})
	require.NoError(t, err)
	write(t, f, "new\n")
	requireContent(t, path, "new\n")
	requireMode(t, path, 0o640)
}

func TestCreateRefuses(t *testing.T) {
	dir := t.TempDir()
	const kept = "root's own\n"
	victim := filepath.Join(dir, "victim")
	require.NoError(t, os.WriteFile(victim, []byte(kept), 0o600))

	t.Run("a symbolic link", func(t *testing.T) {
		link := filepath.Join(dir, "link")
		require.NoError(t, os.Symlink(victim, link))
		_, err := self().Create(link, Options{})
		requireRefused(t, err, link, "it is a symbolic link, which vigil never writes through")
		dangling := filepath.Join(dir, "dangling")
		require.NoError(t, os.Symlink(filepath.Join(dir, "absent"), dangling))
		_, err = self().Create(dangling, Options{Append: true})
		requireRefused(t, err, dangling, "it is a symbolic link, which vigil never writes through")
		require.NoFileExists(t, filepath.Join(dir, "absent"))
	})

	t.Run("a file writable by others", func(t *testing.T) {
		for mode, who := range map[fs.FileMode]string{0o664: "its group", 0o606: "every user"} {
			path := filepath.Join(dir, "shared-"+mode.String())
			require.NoError(t, os.WriteFile(path, []byte(kept), 0o600))
			require.NoError(t, os.Chmod(path, mode))
			_, err := self().Create(path, Options{})
			requireRefused(t, err, path, fmt.Sprintf("it is writable by %s (mode %04o)", who, mode))
			requireContent(t, path, kept)
		}
	})

	t.Run("a hard link", func(t *testing.T) {
		path := filepath.Join(dir, "second-name")
		require.NoError(t, os.Link(victim, path))
		_, err := self().Create(path, Options{})
		requireRefused(t, err, path, "it has 2 hard links: vigil would write a file that other names reach")
		requireContent(t, victim, kept)
	})

	t.Run("a named pipe nobody reads", func(t *testing.T) {
		path := filepath.Join(dir, "fifo")
		require.NoError(t, unix.Mkfifo(path, 0o600))
		done := make(chan error, 1)
		go func() { _, err := self().Create(path, Options{}); done <- err }()
		select {
		case err := <-done:
			requireRefused(t, err, path, "it is a named pipe that nobody reads yet, or a socket")
		case <-time.After(10 * time.Second):
			t.Fatal("Create hangs on a named pipe")
		}
	})

	t.Run("a directory", func(t *testing.T) {
		_, err := self().Create(dir, Options{})
		require.ErrorIs(t, err, unix.EISDIR)
	})
}

// TestCreateStreams: a named pipe of vigil's that a reader has open, and a
// device of root's such as /dev/null, are written as they are.
func TestCreateStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, unix.Mkfifo(path, 0o600))
	read := make(chan []byte, 1)
	go func() {
		b, _ := os.ReadFile(path)
		read <- b
	}()
	var f *os.File
	require.Eventually(t, func() bool {
		var err error
		f, err = self().Create(path, Options{})
		return err == nil
	}, 10*time.Second, 10*time.Millisecond, "the reader opens the pipe")
	_, err := f.WriteString("line\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, "line\n", string(<-read))

	null, err := self().Create(os.DevNull, Options{})
	require.NoError(t, err)
	_, err = null.WriteString("gone\n")
	require.NoError(t, err)
	require.NoError(t, null.Close())
	st, err := os.Stat(os.DevNull)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o666), st.Mode().Perm(), "a device's mode is left as it is")
}

func TestCreateRefusesAnotherUsersFile(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "planted")
	require.NoError(t, os.WriteFile(path, []byte("theirs\n"), 0o644))
	require.NoError(t, os.Chown(path, nobody, nobody))

	_, err := self().Create(path, Options{})
	requireRefused(t, err, path, "it is owned by uid 65534, not by vigil (uid 0)")
	requireContent(t, path, "theirs\n")

	// Run through sudo, the user who ran it is trusted: vigil writes for
	// them.
	sudo := Policy{UID: 0, SudoUID: nobody, HasSudo: true}
	f, err := sudo.Create(path, Options{Append: true})
	require.NoError(t, err)
	write(t, f, "vigil's\n")
	requireContent(t, path, "theirs\nvigil's\n")
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, uint32(nobody), st.Sys().(*syscall.Stat_t).Uid, "still theirs")
}

func TestCreateChecksTheDirectories(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	withUmask(t, 0)
	mkdir := func(name string, mode fs.FileMode, uid int) string {
		t.Helper()
		path := filepath.Join(base, name)
		require.NoError(t, os.Mkdir(path, 0o700))
		require.NoError(t, os.Chmod(path, mode))
		require.NoError(t, os.Chown(path, uid, uid))
		return path
	}
	open := mkdir("open", 0o777, 0)
	group := mkdir("group", 0o770, 0)
	sticky := mkdir("sticky", 0o777|fs.ModeSticky, 0)
	theirs := mkdir("theirs", 0o755, nobody)
	below := filepath.Join(theirs, "root-owned")
	require.NoError(t, os.Mkdir(below, 0o755))

	for _, tc := range []struct{ path, reason string }{
		{filepath.Join(open, "x"), "its directory " + open + " is writable by every user, without the sticky bit (mode 0777)"},
		{filepath.Join(group, "x"), "its directory " + group + " is writable by its group, without the sticky bit (mode 0770)"},
		{filepath.Join(theirs, "x"), "its directory " + theirs + " is owned by uid 65534, not by vigil (uid 0)"},
		{filepath.Join(below, "x"), "its directory " + theirs + " is owned by uid 65534, not by vigil (uid 0)"},
	} {
		_, err := self().Create(tc.path, Options{})
		requireRefused(t, err, tc.path, tc.reason)
		require.NoFileExists(t, tc.path)
	}

	// Others cannot rename what is not theirs in a sticky directory.
	f, err := self().Create(filepath.Join(sticky, "x"), Options{})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	// But they can plant a link there, which the kernel, too, may refuse
	// to follow (fs.protected_symlinks).
	victim := filepath.Join(base, "victim")
	require.NoError(t, os.WriteFile(victim, []byte("root's own\n"), 0o600))
	planted := filepath.Join(sticky, "planted")
	require.NoError(t, os.Symlink(victim, planted))
	require.NoError(t, os.Lchown(planted, nobody, nobody))
	_, err = self().Create(planted, Options{})
	requireRefused(t, err, planted, "it is a symbolic link, which vigil never writes through")
	requireContent(t, victim, "root's own\n")
	// The sudo user's directories are trusted like vigil's own.
	f, err = Policy{SudoUID: nobody, HasSudo: true}.Create(filepath.Join(below, "x"), Options{})
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func TestCreateFollowsOnlyTrustedLinksToDirectories(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	real := filepath.Join(base, "real")
	require.NoError(t, os.Mkdir(real, 0o755))
	sticky := filepath.Join(base, "sticky")
	require.NoError(t, os.Mkdir(sticky, 0o755))
	require.NoError(t, os.Chmod(sticky, 0o777|fs.ModeSticky))

	// Root's links are followed, relative ones and "..", as the kernel
	// would.
	rootLink := filepath.Join(sticky, "root-link")
	require.NoError(t, os.Symlink("../real", rootLink))
	f, err := self().Create(filepath.Join(rootLink, "out"), Options{})
	require.NoError(t, err)
	write(t, f, "through root's link\n")
	requireContent(t, filepath.Join(real, "out"), "through root's link\n")

	// Anyone may plant a link in a sticky directory: another user's link
	// is refused.
	theirLink := filepath.Join(sticky, "their-link")
	require.NoError(t, os.Symlink(real, theirLink))
	require.NoError(t, os.Lchown(theirLink, nobody, nobody))
	_, err = self().Create(filepath.Join(theirLink, "out"), Options{})
	requireRefused(t, err, filepath.Join(theirLink, "out"),
		"it goes through the symbolic link "+theirLink+", owned by uid 65534, not by vigil (uid 0)")
	requireContent(t, filepath.Join(real, "out"), "through root's link\n")

	loop := filepath.Join(base, "loop")
	require.NoError(t, os.Symlink(loop, loop))
	_, err = self().Create(filepath.Join(loop, "out"), Options{})
	requireRefused(t, err, filepath.Join(loop, "out"), "it goes through more than 40 symbolic links")
}

func TestCreateRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	f, err := self().Create("out.jsonl", Options{})
	require.NoError(t, err)
	write(t, f, "here\n")
	requireContent(t, filepath.Join(dir, "out.jsonl"), "here\n")
}

func TestErrorNamesThePath(t *testing.T) {
	err := refuse("/tmp/x", "it is owned by uid %d, not by %s", 1000, Policy{UID: 0}.owners())
	require.EqualError(t, err, "/tmp/x: refusing: it is owned by uid 1000, not by vigil (uid 0)")
	var e *Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, "vigil (uid 1000), root, the user who ran sudo (uid 1001)", Policy{UID: 1000, SudoUID: 1001, HasSudo: true}.owners())
	require.Equal(t, "vigil (uid 0)", Policy{UID: 0, SudoUID: 0, HasSudo: true}.owners())
}

func TestCurrent(t *testing.T) {
	env := map[string]string{"SUDO_UID": "1001"}
	p := Current(func(k string) string { return env[k] })
	require.Equal(t, Policy{UID: uint32(os.Geteuid()), SudoUID: 1001, HasSudo: true}, p)
	env["SUDO_UID"] = "not a uid"
	require.Equal(t, Policy{UID: uint32(os.Geteuid())}, Current(func(k string) string { return env[k] }))
}
