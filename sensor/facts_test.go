package sensor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/internal/containertest"
)

// Each test here execs a real program under the real, attached sensor and
// checks one fact of its exec event.

var nobody = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}

func execOfPID(pid int) func(*event.Event) bool {
	return func(ev *event.Event) bool { return ev.Kind == event.KindExec && ev.PID == uint32(pid) }
}

func mustEvalSymlinks(t *testing.T, path string) string {
	t.Helper()
	real, err := filepath.EvalSymlinks(path)
	require.NoError(t, err)
	return real
}

func TestExecResolvesPaths(t *testing.T) {
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/bin/true", "vigil-resolved")
	dir := filepath.Dir(probe)
	link := filepath.Join(dir, "via-link")
	require.NoError(t, os.Symlink(probe, link))

	t.Run("relative path", func(t *testing.T) {
		cmd := exec.Command("./vigil-resolved")
		cmd.Dir = dir
		require.NoError(t, cmd.Run())
		ev := c.wait(t, execOfPID(cmd.Process.Pid))
		require.Equal(t, "./vigil-resolved", ev.Filename)
		require.Equal(t, probe, ev.ExePath)
		require.Equal(t, dir, ev.Cwd)
		require.Empty(t, ev.Interpreter)
	})
	t.Run("symlink", func(t *testing.T) {
		cmd := exec.Command(link)
		require.NoError(t, cmd.Run())
		ev := c.wait(t, execOfPID(cmd.Process.Pid))
		require.Equal(t, link, ev.Filename)
		require.Equal(t, probe, ev.ExePath)
		var st unix.Stat_t
		require.NoError(t, unix.Stat(probe, &st))
		require.Equal(t, st.Ino, ev.File.Inode)
		require.Equal(t, uint32(1), ev.File.Nlink)
		require.Equal(t, uint32(st.Mode), ev.File.Mode)
		require.Equal(t, uint32(unix.Major(st.Dev))<<20|uint32(unix.Minor(st.Dev)), ev.File.Dev)
		require.False(t, ev.File.Deleted || ev.File.Memfd || ev.File.Overlay)
	})
	t.Run("script and its interpreter", func(t *testing.T) {
		script := filepath.Join(dir, "build.sh")
		require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755))
		cmd := exec.Command(script, "arg")
		require.NoError(t, cmd.Run())
		ev := c.wait(t, execOfPID(cmd.Process.Pid))
		require.Equal(t, script, ev.Filename)
		require.Equal(t, script, ev.Script)
		require.Equal(t, "/bin/sh", ev.Interpreter)
		require.Equal(t, mustEvalSymlinks(t, "/bin/sh"), ev.ExePath)
		require.Equal(t, []string{"/bin/sh", script, "arg"}, ev.Args)
	})
}

func TestExecOfMemfdIsFileless(t *testing.T) {
	c := startSensor(t, Config{})
	// The test binary copies /bin/true into a memfd and execs that.
	cmd := helperCommand(t, "exec-memfd", "/bin/true", "fileless")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	ev := c.wait(t, func(ev *event.Event) bool {
		return execOfPID(cmd.Process.Pid)(ev) && strings.HasPrefix(ev.Filename, "/proc/self/fd/")
	})
	require.True(t, ev.File.Memfd)
	require.False(t, ev.File.Deleted, "a memfd is reported as such, not as a deleted file")
	require.Equal(t, "/memfd:vigil-fileless", ev.ExePath)
	require.Equal(t, []string{"fileless"}, ev.Args)
}

func TestExecOfDeletedBinaryIsFlagged(t *testing.T) {
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/bin/true", "vigil-deleted")
	// The test binary opens the probe, unlinks it and execs the open file.
	cmd := helperCommand(t, "exec-deleted", probe, "deleted")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	ev := c.wait(t, func(ev *event.Event) bool {
		return execOfPID(cmd.Process.Pid)(ev) && strings.HasPrefix(ev.Filename, "/proc/self/fd/")
	})
	require.True(t, ev.File.Deleted)
	require.Zero(t, ev.File.Nlink)
	require.False(t, ev.File.Memfd)
	require.Equal(t, probe, ev.ExePath, "the name it had")
}

func TestSetuidExecShowsCredentialChange(t *testing.T) {
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/usr/bin/id", "vigil-setuid")
	require.NoError(t, os.Chown(probe, 0, 0))
	require.NoError(t, os.Chmod(probe, os.ModeSetuid|0o755))
	plain := probeBinary(t, "/usr/bin/id", "vigil-plain")

	cmd := exec.Command(probe, "-u")
	cmd.SysProcAttr = nobody
	out, err := cmd.Output()
	require.NoError(t, err)
	require.Equal(t, "0\n", string(out), "the setuid bit took effect")
	ev := c.wait(t, execOfPID(cmd.Process.Pid))
	require.Equal(t, uint32(65534), ev.UID)
	require.Equal(t, uint32(0), ev.EUID)
	require.Equal(t, uint32(65534), ev.EGID)
	require.True(t, ev.SetID)
	require.True(t, ev.SecureExec)
	require.Equal(t, uint32(0o4755), ev.File.Mode&0o7777)
	require.False(t, ev.File.UserWritable, "root's file, not nobody's to write")

	cmd = exec.Command(plain, "-u")
	cmd.SysProcAttr = nobody
	require.NoError(t, cmd.Run())
	ev = c.wait(t, execOfPID(cmd.Process.Pid))
	require.Equal(t, uint32(65534), ev.EUID)
	require.False(t, ev.SetID)
	require.False(t, ev.SecureExec)
	require.Zero(t, ev.CapEffective)

	require.NoError(t, os.Chown(plain, 65534, 65534))
	cmd = exec.Command(plain, "-u")
	cmd.SysProcAttr = nobody
	require.NoError(t, cmd.Run())
	ev = c.wait(t, execOfPID(cmd.Process.Pid))
	require.True(t, ev.File.UserWritable, "nobody owns this copy")
}

func TestExecThroughLoaderIsRecognised(t *testing.T) {
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/bin/true", "vigil-loaded")
	loader := map[string]string{"amd64": "/lib64/ld-linux-x86-64.so.2", "arm64": "/lib/ld-linux-aarch64.so.1"}[runtime.GOARCH]
	if loader == "" {
		t.Skipf("no loader path known for %s", runtime.GOARCH)
	}
	cmd := exec.Command(loader, probe, "x")
	require.NoError(t, cmd.Run())
	ev := c.wait(t, execOfPID(cmd.Process.Pid))
	require.True(t, ev.Loader)
	require.Equal(t, probe, ev.LoaderTarget)
	require.Equal(t, mustEvalSymlinks(t, loader), ev.ExePath)
}

func TestEnvironmentAllowListIsRead(t *testing.T) {
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/bin/true", "vigil-env")
	traceparent := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	cmd := exec.Command(probe)
	cmd.Env = []string{
		"PATH=/usr/bin:/bin",
		"CI_JOB_TOKEN=glpat-secret-value",
		"TRACEPARENT=" + traceparent,
		"GITHUB_TOKEN=ghp_secret",
		"BUILDKITE_AGENT_ACCESS_TOKEN=bk-secret",
		"GITHUB_RUN_ID=123456",
		"CI=true",
		"LONG=" + strings.Repeat("x", 3000),
		"GITHUB_JOB=build",
	}
	require.NoError(t, cmd.Run())
	ev := c.wait(t, execOfPID(cmd.Process.Pid))
	require.Equal(t, map[string]string{
		"TRACEPARENT":   traceparent,
		"GITHUB_RUN_ID": "123456",
		"CI":            "true",
		"GITHUB_JOB":    "build",
	}, ev.Env)
	require.False(t, ev.EnvTruncated)
}

// TestLoaderVariablesAreRead: the dynamic loader's variables are on the
// default allow-list, read from a real exec with their values, and one set
// to nothing is there, empty: the recipes tell "set" from "unset".
func TestLoaderVariablesAreRead(t *testing.T) {
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/bin/true", "vigil-preload")
	// A library that does not exist: the loader says so on stderr, loads
	// nothing and runs the program.
	missing := filepath.Join(t.TempDir(), "libvigil-missing.so")
	cmd := exec.Command(probe)
	cmd.Env = []string{
		"PATH=/usr/bin:/bin",
		"LD_PRELOAD=" + missing,
		"LD_AUDIT=",
		"LD_LIBRARY_PATH=/tmp/vigil-lib:/opt/lib",
		"LD_BIND_NOW=1",
	}
	require.NoError(t, cmd.Run())
	ev := c.wait(t, execOfPID(cmd.Process.Pid))
	require.Equal(t, map[string]string{
		"LD_PRELOAD":      missing,
		"LD_AUDIT":        "",
		"LD_LIBRARY_PATH": "/tmp/vigil-lib:/opt/lib",
	}, ev.Env)
	require.False(t, ev.EnvTruncated)
}

func TestContextOfTheProcess(t *testing.T) {
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/bin/true", "vigil-context")
	cmd := exec.Command(probe)
	cmd.Dir = "/etc"
	require.NoError(t, cmd.Run())
	ev := c.wait(t, execOfPID(cmd.Process.Pid))

	nsInode := func(kind string) uint32 {
		var st unix.Stat_t
		require.NoError(t, unix.Stat("/proc/self/ns/"+kind, &st))
		return uint32(st.Ino)
	}
	require.Equal(t, "/etc", ev.Cwd)
	require.Equal(t, nsInode("pid"), ev.PIDNS)
	require.Equal(t, nsInode("mnt"), ev.MntNS)
	require.Equal(t, ev.PID, ev.VPID, "the host pid namespace")
	require.Empty(t, ev.TTY, "not interactive")
	require.Empty(t, ev.ContainerID)
	require.NotZero(t, ev.CgroupID)
	loginuid, err := os.ReadFile("/proc/self/loginuid")
	require.NoError(t, err)
	require.Equal(t, strings.TrimSpace(string(loginuid)), fmt.Sprint(ev.LoginUID))

	// script(1) gives its command a terminal of its own.
	cmd = exec.Command("/usr/bin/script", "-qec", probe+" tty", "/dev/null")
	require.NoError(t, cmd.Run())
	ev = c.wait(t, func(ev *event.Event) bool { return isExecOf(probe)(ev) && len(ev.Args) == 2 })
	require.True(t, strings.HasPrefix(ev.TTY, "pts"), "tty %q", ev.TTY)
}

func TestOverlayUpperLayerIsFlagged(t *testing.T) {
	c := startSensor(t, Config{})
	base := t.TempDir()
	lower, upper, work, merged := filepath.Join(base, "lower"), filepath.Join(base, "upper"), filepath.Join(base, "work"), filepath.Join(base, "merged")
	for _, d := range []string{lower, upper, work, merged} {
		require.NoError(t, os.Mkdir(d, 0o755))
	}
	data, err := os.ReadFile("/bin/true")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(lower, "from-image"), data, 0o755))
	require.NoError(t, unix.Mount("overlay", merged, "overlay", 0, fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work)))
	t.Cleanup(func() { _ = unix.Unmount(merged, unix.MNT_DETACH) })
	// Written after the "image" was built: it lands in the upper layer.
	require.NoError(t, os.WriteFile(filepath.Join(merged, "dropped"), data, 0o755))

	cmd := exec.Command(filepath.Join(merged, "from-image"))
	require.NoError(t, cmd.Run())
	ev := c.wait(t, execOfPID(cmd.Process.Pid))
	require.True(t, ev.File.Overlay)
	require.False(t, ev.File.OverlayUpper)
	if !c.sensor.Features().OverlayLayer {
		// A kernel without overlayfs's types says it cannot tell.
		require.True(t, ev.File.OverlayLayerUnknown)
		return
	}
	require.False(t, ev.File.OverlayLayerUnknown)
	require.Equal(t, filepath.Join(merged, "from-image"), ev.ExePath)

	cmd = exec.Command(filepath.Join(merged, "dropped"))
	require.NoError(t, cmd.Run())
	ev = c.wait(t, execOfPID(cmd.Process.Pid))
	require.True(t, ev.File.Overlay)
	require.True(t, ev.File.OverlayUpper)
}

func TestHugeArgvIsBoundedAndNothingElseBreaks(t *testing.T) {
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/bin/true", "vigil-huge")
	huge := strings.Repeat("A", 100<<10)
	cmd := exec.Command(probe, "\x1b[2J\x00-ignored", huge, "tail")
	cmd.Env = []string{"TRACEPARENT=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	// Go refuses NUL in arguments; the control characters remain.
	cmd.Args[1] = "\x1b[2J\x07bell"
	require.NoError(t, cmd.Run())
	ev := c.wait(t, execOfPID(cmd.Process.Pid))
	require.True(t, ev.ArgsTruncated)
	require.Equal(t, uint32(4), ev.Argc)
	require.Len(t, ev.Args, 3)
	require.Equal(t, "\x1b[2J\x07bell", ev.Args[1])
	require.Len(t, strings.Join(ev.Args, "\x00"), DefaultArgsMax, "argv cut at the byte bound")
	require.Equal(t, probe, ev.ExePath)
	require.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ev.Env["TRACEPARENT"])

	// A raised bound keeps more.
	c2 := startSensor(t, Config{ArgsMax: MaxArgsMax})
	cmd = exec.Command(probe, huge)
	require.NoError(t, cmd.Run())
	ev = c2.wait(t, execOfPID(cmd.Process.Pid))
	require.True(t, ev.ArgsTruncated)
	require.Len(t, strings.Join(ev.Args, "\x00"), MaxArgsMax)
}

func TestContainerProcessCarriesItsContainerID(t *testing.T) {
	c := startSensor(t, Config{})
	res := containertest.Run(t, "", "/bin/sh", "-c", "/bin/true; echo done")
	require.Equal(t, 0, res.ExitCode, res.Stderr)

	ev := c.wait(t, func(ev *event.Event) bool {
		return ev.Kind == event.KindExec && ev.ContainerID == res.ID && ev.Filename == "/bin/true"
	})
	require.Equal(t, res.CgroupsPath, ev.CgroupPath)
	require.Equal(t, "/bin/busybox", ev.ExePath, "resolved inside the container's root")
	require.NotEqual(t, ev.PID, ev.VPID, "its own pid namespace")
	self, err := os.Readlink("/proc/self/ns/pid")
	require.NoError(t, err)
	require.NotEqual(t, self, fmt.Sprintf("pid:[%d]", ev.PIDNS))
}

func TestExecStormIsCountedExactly(t *testing.T) {
	const execs = 10000
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/bin/true", "vigil-storm")
	cmd := exec.Command("/bin/sh", "-c", fmt.Sprintf("i=0; while [ $i -lt %d ]; do %s; i=$((i+1)); done", execs, probe))
	require.NoError(t, cmd.Run())
	// The shell's exit comes after every probe's exec in the ring.
	c.wait(t, func(ev *event.Event) bool { return ev.Kind == event.KindExit && ev.PID == uint32(cmd.Process.Pid) })

	st, err := c.sensor.Stats()
	require.NoError(t, err)
	c.mu.Lock()
	defer c.mu.Unlock()
	var seen uint64
	for _, ev := range c.events {
		if ev.Kind == event.KindExec && ev.Filename == probe && ev.PPID == uint32(cmd.Process.Pid) {
			seen++
		}
	}
	require.Equal(t, uint64(execs), seen+st.RingBufferDrops+st.ScratchBusyDrops, "every exec arrived or was counted as lost")
	t.Logf("%d execs: %d events, %d ring-buffer drops, %d busy-scratch drops", execs, seen, st.RingBufferDrops, st.ScratchBusyDrops)
}

// TestEveryStringOfALongEnvironmentIsScanned: the scan looks at up to 512
// strings (in tail calls, a chunk at a time, on kernels without bpf_loop),
// so a variable after hundreds of others is found; past that the record
// says the environment was not read whole.
func TestEveryStringOfALongEnvironmentIsScanned(t *testing.T) {
	c := startSensor(t, Config{})
	probe := probeBinary(t, "/bin/true", "vigil-long-env")
	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	run := func(fillers int) event.Event {
		env := []string{"CI=true"}
		for i := range fillers {
			env = append(env, fmt.Sprintf("F%d=x", i))
		}
		cmd := exec.Command(probe)
		cmd.Env = append(env, "TRACEPARENT="+traceparent)
		require.NoError(t, cmd.Run())
		return c.wait(t, execOfPID(cmd.Process.Pid))
	}

	ev := run(480)
	require.Equal(t, map[string]string{"CI": "true", "TRACEPARENT": traceparent}, ev.Env)
	require.False(t, ev.EnvTruncated)

	ev = run(600)
	require.Equal(t, "true", ev.Env["CI"])
	require.True(t, ev.EnvTruncated, "strings past the 512th are not looked at, and the record says so")

	// A Buildkite job: a hundred variables share the prefix of the
	// allow-listed BUILDKITE_* names, each a candidate to look up.
	env := []string{"BUILDKITE=true"}
	for i := range 120 {
		env = append(env, fmt.Sprintf("BUILDKITE_X%03d=value", i))
	}
	cmd := exec.Command(probe)
	cmd.Env = append(env, "BUILDKITE_BUILD_ID=0190-abcd", "BUILDKITE_COMMIT=4e1d2c3", "CI=true")
	require.NoError(t, cmd.Run())
	ev = c.wait(t, execOfPID(cmd.Process.Pid))
	require.Equal(t, map[string]string{"BUILDKITE": "true", "BUILDKITE_BUILD_ID": "0190-abcd", "BUILDKITE_COMMIT": "4e1d2c3", "CI": "true"}, ev.Env)
	require.False(t, ev.EnvTruncated)
}
