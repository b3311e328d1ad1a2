package delivery

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStateDirCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "vigil")
	cfg, _ := testConfig(dir)
	cfg.MemoryBytes = 1
	r := newReceiver()
	r.set(fail)
	o := mustOpen(t, cfg, r)
	putRange(o, 0, 1)
	info, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm())
	files, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, files, 3, "lock, cursor, one segment")
	for _, f := range files {
		info, err := f.Info()
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), f.Name())
	}
}

func TestStateDirRefused(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T) string
		err  string
	}{{
		name: "symbolic link",
		make: func(t *testing.T) string {
			link := filepath.Join(t.TempDir(), "link")
			require.NoError(t, os.Symlink(t.TempDir(), link))
			return link
		},
		err: "is a symbolic link",
	}, {
		name: "writable by others",
		make: func(t *testing.T) string {
			dir := t.TempDir()
			require.NoError(t, os.Chmod(dir, 0o777))
			return dir
		},
		err: "is writable by others (mode 0777)",
	}, {
		name: "writable by the group",
		make: func(t *testing.T) string {
			dir := t.TempDir()
			require.NoError(t, os.Chmod(dir, 0o770))
			return dir
		},
		err: "is writable by others (mode 0770)",
	}, {
		name: "a file",
		make: func(t *testing.T) string {
			file := filepath.Join(t.TempDir(), "file")
			require.NoError(t, os.WriteFile(file, nil, 0o600))
			return file
		},
		err: "not a directory",
	}, {
		name: "another user's",
		make: func(t *testing.T) string {
			dir := t.TempDir()
			require.NoError(t, os.Chown(dir, 4242, 4242))
			return dir
		},
		err: "belongs to user 4242",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "another user's" && os.Geteuid() != 0 {
				t.Skip("changing a directory's owner needs root")
			}
			dir := tt.make(t)
			cfg, _ := testConfig(dir)
			_, err := Open(cfg, newReceiver())
			require.ErrorContains(t, err, tt.err)
			require.ErrorContains(t, err, dir, "the error names the directory")
		})
	}
}

func TestStateDirInUse(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := testConfig(dir)
	mustOpen(t, cfg, newReceiver())
	_, err := Open(cfg, newReceiver())
	require.ErrorContains(t, err, "state directory "+dir+" is in use by another process")
}
