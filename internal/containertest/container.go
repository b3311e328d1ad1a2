package containertest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A running container: its pid on the host, once runc's init has become the
// caller's command, and its end, waited for, killed, or cleaned up after the
// test.

// Container is a container that runc is running in the foreground.
type Container struct {
	t       testing.TB
	runc    string
	id      string
	hostPID int
	cmd     *exec.Cmd
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	done    chan struct{}
	waitErr error
	// timedOut is whether runTimeout passed before runc returned.
	timedOut bool
	result   *Result
}

// ID returns the container id.
func (c *Container) ID() string {
	return c.id
}

// HostPID returns the pid of the container's init process on the host.
func (c *Container) HostPID() int {
	return c.hostPID
}

// Kill sends SIGKILL to the container's init process, which ends every
// process in the container. Kill does nothing once the container has exited.
func (c *Container) Kill() {
	c.t.Helper()
	select {
	case <-c.done:
		return
	default:
	}
	out, err := exec.Command(c.runc, "kill", c.id, "KILL").CombinedOutput()
	if err == nil {
		return
	}
	select {
	case <-c.done: // it exited on its own meanwhile
	default:
		c.t.Fatalf("containertest: runc kill %s: %v: %s", c.id, err, bytes.TrimSpace(out))
	}
}

// Wait waits for the container's init process to exit and returns the
// result. It must be called from the test's goroutine; calling it again
// returns the same result.
func (c *Container) Wait() Result {
	c.t.Helper()
	if c.result != nil {
		return *c.result
	}
	<-c.done
	if c.timedOut {
		c.t.Fatalf("containertest: container %s did not exit within %v; stdout: %s; stderr: %s",
			c.id, runTimeout, c.stdout.String(), c.stderr.String())
	}
	code := 0
	if c.waitErr != nil {
		var exitErr *exec.ExitError
		if !errors.As(c.waitErr, &exitErr) || exitErr.ExitCode() < 0 {
			c.t.Fatalf("containertest: container %s: runc run: %v; stderr: %s",
				c.id, c.waitErr, c.stderr.String())
		}
		code = exitErr.ExitCode()
	}
	c.result = &Result{
		ID:          c.id,
		CgroupsPath: CgroupsPath(c.id),
		HostPID:     c.hostPID,
		ExitCode:    code,
		Stdout:      c.stdout.String(),
		Stderr:      c.stderr.String(),
	}
	return *c.result
}

// awaitPID waits until runc has written the pid file, which it does after
// creating the container and before starting the user's process.
func (c *Container) awaitPID(pidFile string) (int, error) {
	ticker := time.NewTicker(pidPoll)
	defer ticker.Stop()
	for {
		b, err := os.ReadFile(pidFile)
		switch {
		case err == nil:
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				return 0, fmt.Errorf("parse runc pid file %s: %w", pidFile, err)
			}
			return pid, nil
		case !errors.Is(err, os.ErrNotExist):
			return 0, fmt.Errorf("read runc pid file: %w", err)
		}
		select {
		case <-c.done:
			// runc writes the file (by rename) before starting the process,
			// so an exit without it means the container never started.
			if _, err := os.Stat(pidFile); err == nil {
				continue
			}
			return 0, fmt.Errorf("runc run exited before starting the container: %v; stderr: %s",
				c.waitErr, c.stderr.String())
		case <-ticker.C:
		}
	}
}

// awaitExec waits until the container's init process has left runc's init
// code (its comm is "runc:[2:INIT]" until then) and runs the caller's
// command, or until it has exited.
func (c *Container) awaitExec() {
	commPath := fmt.Sprintf("/proc/%d/comm", c.hostPID)
	ticker := time.NewTicker(pidPoll)
	defer ticker.Stop()
	for {
		comm, err := os.ReadFile(commPath)
		if err != nil || !bytes.HasPrefix(comm, []byte("runc:[")) {
			return // it runs the command, or is gone already
		}
		select {
		case <-c.done:
			return
		case <-ticker.C:
		}
	}
}

// cleanup kills a container that still runs, waits for runc to return, and
// removes any state runc left behind.
func (c *Container) cleanup() {
	select {
	case <-c.done:
	default:
		_ = exec.Command(c.runc, "kill", c.id, "KILL").Run()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			c.t.Errorf("containertest: runc run for container %s did not return after SIGKILL", c.id)
		}
	}
	// A foreground runc run deletes the container itself when it returns;
	// this is for a runc that was killed before it could.
	out, err := exec.Command(c.runc, "delete", "--force", c.id).CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("does not exist")) {
		c.t.Errorf("containertest: runc delete --force %s: %v: %s", c.id, err, bytes.TrimSpace(out))
	}
}
