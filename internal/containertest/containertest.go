// Package containertest runs short-lived, real containers with runc so that
// tests can check how vigil attributes processes to containers.
//
// Each container gets its own OCI bundle in t.TempDir(): a root filesystem
// that holds only a statically linked busybox (as /bin/busybox, with a
// symlink in /bin for every applet it has) and a config.json made by
// `runc spec --rootless=false` and then edited. The container runs in the
// foreground with `runc run`, its standard output and error are captured,
// and runc's exit status is the container's.
//
// Container ids are 64 lowercase hex characters, like Docker's, and the
// container is put in the cgroup CgroupParent + "/" + id (for example
// /docker/0f3c…), which is the path Docker's cgroupfs driver uses. runc's
// default cgroup manager (cgroupfs, not systemd) creates that path under the
// root of every hierarchy, and the config has no cgroup namespace, so a
// process in the container sees the full path in /proc/self/cgroup. On the
// development machine (Debian 12, kernel 6.18, no systemd, cgroup v1 with the
// v2 hierarchy mounted at /sys/fs/cgroup/unified) a container process reads:
//
//	9:name=systemd:/docker/<id>
//	8:pids:/docker/<id>
//	...
//	1:cpu:/docker/<id>
//	0::/docker/<id>
//
// On a host with only cgroup v2 the single line is 0::/docker/<id>. Either
// way the id is the last element of the path, which is what a sensor parses.
//
// The helpers need root, runc (Debian package runc) and a static busybox at
// /bin/busybox (Debian package busybox-static). They install nothing: when
// something is missing the test fails and says which package to install.
package containertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// CgroupParent is the cgroup under which every container is placed, as
// Docker's cgroupfs driver does.
const CgroupParent = "/docker"

// BusyboxPath is where Debian's busybox-static package installs busybox.
const BusyboxPath = "/bin/busybox"

const (
	// runTimeout bounds one container run; the container is killed after it.
	runTimeout = 2 * time.Minute
	// pidPoll is how often Start looks for runc's pid file.
	pidPoll = 2 * time.Millisecond
)

// CgroupsPath returns the linux.cgroupsPath given to runc for the container
// id, which is also the path its processes see in /proc/<pid>/cgroup.
func CgroupsPath(id string) string {
	return CgroupParent + "/" + id
}

// NewID returns a random container id of 64 lowercase hex characters.
func NewID() string {
	var b [32]byte
	// crypto/rand.Read never returns an error since Go 1.24.
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Result is the outcome of one container run.
type Result struct {
	// ID is the container id given to runc.
	ID string
	// CgroupsPath is the cgroup the container ran in, CgroupsPath(ID).
	CgroupsPath string
	// HostPID is the pid of the container's init process as the host sees
	// it, from runc's --pid-file. That process first runs runc's own init
	// code and then executes args[0], keeping the pid. It is gone by the
	// time a Result exists, but events a sensor recorded for it carry this
	// pid.
	HostPID int
	// ExitCode is the exit status of the container's init process, or 128
	// plus the signal number when a signal ended it.
	ExitCode int
	// Stdout and Stderr are everything the container wrote to them.
	Stdout string
	Stderr string
}

// Run runs args as the init process of a new container and waits for it to
// exit. An empty id means a fresh NewID. Run fails the test if the container
// cannot be started; a non-zero exit of args is reported in the Result.
func Run(t testing.TB, id string, args ...string) Result {
	t.Helper()
	return Start(t, id, args...).Wait()
}

// Start starts args as the init process of a new container and returns once
// that process has executed args[0] (or already exited), so that the caller
// can look at it through HostPID while it runs. An empty id means a fresh
// NewID. Start fails the test if the container cannot be started. If the
// test has not waited for the container by the time it ends, the container
// is killed and deleted then.
func Start(t testing.TB, id string, args ...string) *Container {
	t.Helper()
	return StartWith(t, id, Options{}, args...)
}

// Options shape a container beyond Start's defaults: another root
// filesystem, fewer privileges, host paths mounted in.
type Options struct {
	// RootFS, when set, is the container's root filesystem (a folder,
	// mounted read-only) instead of a busybox one.
	RootFS string
	// Capabilities, when set, are the container's only capabilities
	// (bounding, effective and permitted), such as "CAP_BPF".
	Capabilities []string
	// Mounts are host paths bound into the container.
	Mounts []Mount
}

// Mount binds the host path Source at Destination in the container.
type Mount struct {
	Source, Destination string
	ReadOnly            bool
}

// StartWith is Start with opts.
func StartWith(t testing.TB, id string, opts Options, args ...string) *Container {
	t.Helper()
	if len(args) == 0 {
		t.Fatalf("containertest: no command to run in the container")
	}
	if id == "" {
		id = NewID()
	}
	runc := requireTools(t)

	bundle := t.TempDir()
	if opts.RootFS == "" {
		if err := makeRootfs(filepath.Join(bundle, "rootfs")); err != nil {
			t.Fatalf("containertest: %v", err)
		}
	}
	if err := writeConfig(runc, bundle, id, opts, args); err != nil {
		t.Fatalf("containertest: %v", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	pidFile := filepath.Join(bundle, "init.pid")
	c := &Container{
		t:    t,
		runc: runc,
		id:   id,
		cmd:  exec.CommandContext(ctx, runc, "run", "--bundle", bundle, "--pid-file", pidFile, id),
		done: make(chan struct{}),
	}
	c.cmd.Stdout = &c.stdout
	c.cmd.Stderr = &c.stderr
	// On timeout or at the end of the test, kill the container rather than
	// runc, so that runc returns and removes the container as usual. Should
	// runc still run WaitDelay later, exec kills it and cleanup deletes the
	// container.
	c.cmd.Cancel = func() error {
		return exec.Command(runc, "kill", id, "KILL").Run()
	}
	c.cmd.WaitDelay = 5 * time.Second
	if err := c.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("containertest: start %s run: %v", runc, err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		c.timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
		cancel()
		close(c.done)
	}()
	// Registered after t.TempDir, so it runs before the bundle is removed.
	t.Cleanup(c.cleanup)

	pid, err := c.awaitPID(pidFile)
	if err != nil {
		t.Fatalf("containertest: container %s: %v", id, err)
	}
	c.hostPID = pid
	c.awaitExec()
	return c
}
