package containertest_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/containertest"
)

func TestRunSeesItsCgroup(t *testing.T) {
	res := containertest.Run(t, "", "sh", "-c", "cat /proc/self/cgroup; echo hello; hostname")

	require.Equal(t, 0, res.ExitCode, "stderr: %s", res.Stderr)
	require.Regexp(t, `^[0-9a-f]{64}$`, res.ID)
	require.Equal(t, "/docker/"+res.ID, res.CgroupsPath)
	require.Equal(t, containertest.CgroupsPath(res.ID), res.CgroupsPath)
	require.Positive(t, res.HostPID)

	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	require.GreaterOrEqual(t, len(lines), 3, "stdout: %q", res.Stdout)
	require.Equal(t, "hello", lines[len(lines)-2])
	require.Equal(t, res.ID[:12], lines[len(lines)-1], "host name is the short id")

	cgroupLines := lines[:len(lines)-2]
	for _, line := range cgroupLines {
		t.Logf("cgroup inside the container: %s", line)
		// Lines are hierarchy-ID:controllers:path.
		fields := strings.SplitN(line, ":", 3)
		require.Len(t, fields, 3, "cgroup line %q", line)
		require.Equal(t, res.CgroupsPath, fields[2], "cgroup line %q", line)
		require.Contains(t, line, res.ID)
	}
	require.Contains(t, cgroupLines, "0::"+res.CgroupsPath, "the cgroup v2 line")
}

func TestRunReportsExitCode(t *testing.T) {
	res := containertest.Run(t, "", "sh", "-c", "echo oops >&2; exit 3")

	require.Equal(t, 3, res.ExitCode)
	require.Equal(t, "oops\n", res.Stderr)
	require.Empty(t, res.Stdout)
}

func TestRunUsesGivenID(t *testing.T) {
	id := containertest.NewID()
	require.Regexp(t, `^[0-9a-f]{64}$`, id)
	require.NotEqual(t, id, containertest.NewID())

	res := containertest.Run(t, id, "true")

	require.Equal(t, 0, res.ExitCode, "stderr: %s", res.Stderr)
	require.Equal(t, id, res.ID)
}

func TestStartGivesHostPIDOfRunningContainer(t *testing.T) {
	c := containertest.Start(t, "", "sleep", "60")

	pid := strconv.Itoa(c.HostPID())
	comm, err := os.ReadFile("/proc/" + pid + "/comm")
	require.NoError(t, err)
	require.Equal(t, "sleep\n", string(comm))
	cgroup, err := os.ReadFile("/proc/" + pid + "/cgroup")
	require.NoError(t, err)
	require.Contains(t, string(cgroup), "0::"+containertest.CgroupsPath(c.ID())+"\n")

	c.Kill()
	res := c.Wait()
	require.Equal(t, 128+9, res.ExitCode, "ended by SIGKILL")
	require.Equal(t, c.HostPID(), res.HostPID)
	require.Equal(t, res, c.Wait(), "a second Wait gives the same result")

	// runc run removes the container once its init process has exited.
	requireGone(t, c.ID())
}

func TestUnwaitedContainerIsRemovedAtCleanup(t *testing.T) {
	var id string
	t.Run("start", func(t *testing.T) {
		id = containertest.Start(t, "", "sleep", "60").ID()
	})
	requireGone(t, id)
}

// requireGone checks that runc no longer knows the container id and that its
// cgroup v2 directory is gone.
func requireGone(t *testing.T, id string) {
	t.Helper()
	runc, err := exec.LookPath("runc")
	if err != nil {
		runc = "/usr/sbin/runc"
	}
	out, err := exec.Command(runc, "state", id).CombinedOutput()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, "runc state %s: %s", id, out)
	require.Contains(t, string(out), "does not exist")

	// cgroup v2 is at /sys/fs/cgroup alone, or at /sys/fs/cgroup/unified
	// beside the v1 hierarchies.
	v2 := "/sys/fs/cgroup/unified"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		v2 = "/sys/fs/cgroup"
	}
	_, err = os.Stat(v2 + containertest.CgroupsPath(id))
	require.ErrorIs(t, err, os.ErrNotExist, "the container's cgroup is removed")
}
