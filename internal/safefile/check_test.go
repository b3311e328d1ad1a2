package safefile

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	withUmask(t, 0)
	mkdir := func(path string, mode fs.FileMode, uid int) string {
		t.Helper()
		require.NoError(t, os.Mkdir(path, 0o700))
		require.NoError(t, os.Chmod(path, mode))
		require.NoError(t, os.Chown(path, uid, uid))
		return path
	}
	file := func(path string, mode fs.FileMode, uid int) string {
		t.Helper()
		require.NoError(t, os.WriteFile(path, []byte("recipes: []\n"), mode))
		require.NoError(t, os.Chown(path, uid, uid))
		return path
	}
	trusted := mkdir(filepath.Join(base, "trusted"), 0o755, 0)
	good := file(filepath.Join(trusted, "good.yaml"), 0o644, 0)
	open := mkdir(filepath.Join(base, "open"), 0o777, 0)
	sticky := mkdir(filepath.Join(base, "sticky"), 0o777|fs.ModeSticky, 0)
	inSticky := file(filepath.Join(sticky, "root.yaml"), 0o644, 0)
	group := file(filepath.Join(trusted, "group.yaml"), 0o664, 0)
	theirFile := file(filepath.Join(trusted, "theirs.yaml"), 0o644, nobody)
	theirDir := mkdir(filepath.Join(base, "theirs"), 0o755, nobody)
	underTheirs := mkdir(filepath.Join(theirDir, "root-owned"), 0o755, 0)
	rootLink := filepath.Join(trusted, "link.yaml")
	require.NoError(t, os.Symlink("../open", rootLink))
	theirLink := filepath.Join(sticky, "their-link")
	require.NoError(t, os.Symlink(trusted, theirLink))
	require.NoError(t, os.Lchown(theirLink, nobody, nobody))

	for _, tc := range []struct{ path, reason string }{
		{open, "it is writable by every user (mode 0777)"},
		{sticky, "it is writable by every user (mode 1777)"},
		{group, "it is writable by its group (mode 0664)"},
		{theirFile, "it is owned by uid 65534, not by vigil (uid 0)"},
		{theirDir, "it is owned by uid 65534, not by vigil (uid 0)"},
		{underTheirs, "its directory " + theirDir + " is owned by uid 65534, not by vigil (uid 0)"},
		{rootLink, open + " is writable by every user (mode 0777)"},
		{filepath.Join(theirLink, "good.yaml"), "it goes through the symbolic link " + theirLink + ", owned by uid 65534, not by vigil (uid 0)"},
		{theirLink, "it goes through the symbolic link " + theirLink + ", owned by uid 65534, not by vigil (uid 0)"},
	} {
		requireRefused(t, self().Check(tc.path), tc.path, tc.reason)
	}
	for _, ok := range []string{trusted, good, inSticky} {
		require.NoError(t, self().Check(ok), ok)
	}
	require.NoError(t, Policy{SudoUID: nobody, HasSudo: true}.Check(theirFile), "the sudo user's own recipes")
	require.ErrorIs(t, self().Check(filepath.Join(trusted, "absent")), fs.ErrNotExist)
}

func TestCheckRelativePath(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "r.yaml"), nil, 0o644))
	t.Chdir(dir)
	require.NoError(t, self().Check("r.yaml"))
	require.NoError(t, self().Check("."))
}
