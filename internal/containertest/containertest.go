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
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// requireTools fails the test unless it runs as root with runc and a static
// busybox installed, and returns the path of runc.
func requireTools(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("containertest: running containers with runc needs root (euid is %d)", os.Geteuid())
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		// Debian puts runc in /usr/sbin, which a user's PATH may lack.
		if _, statErr := os.Stat("/usr/sbin/runc"); statErr != nil {
			t.Fatalf("containertest: runc not found (%v); install the Debian package runc", err)
		}
		runc = "/usr/sbin/runc"
	}
	static, err := isStatic(BusyboxPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		t.Fatalf("containertest: %s not found; install the Debian package busybox-static", BusyboxPath)
	case err != nil:
		t.Fatalf("containertest: %v", err)
	case !static:
		t.Fatalf("containertest: %s is dynamically linked and cannot run in an empty root filesystem; "+
			"install the Debian package busybox-static", BusyboxPath)
	}
	return runc
}

// isStatic reports whether the ELF executable at path needs no dynamic loader.
func isStatic(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, fmt.Errorf("open %s as ELF: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}

// makeRootfs fills dir with /bin/busybox and one /bin symlink per applet.
func makeRootfs(dir string) error {
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return fmt.Errorf("make rootfs: %w", err)
	}
	if err := copyFile(BusyboxPath, filepath.Join(bin, "busybox"), 0o755); err != nil {
		return fmt.Errorf("make rootfs: %w", err)
	}
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return fmt.Errorf("make rootfs: list busybox applets: %w", err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(bin, applet)); err != nil {
			return fmt.Errorf("make rootfs: link applet: %w", err)
		}
	}
	return nil
}

// copyFile copies the regular file src to a new file dst with the given mode.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return nil
}

// writeConfig has runc write its default config.json into bundle and then
// edits it to run args in the container id.
func writeConfig(runc, bundle, id string, opts Options, args []string) error {
	if out, err := exec.Command(runc, "spec", "--rootless=false", "--bundle", bundle).CombinedOutput(); err != nil {
		return fmt.Errorf("runc spec: %w: %s", err, bytes.TrimSpace(out))
	}
	path := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read generated config: %w", err)
	}
	// A generic map keeps every field runc wrote, known to this code or not.
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("parse generated config %s: %w", path, err)
	}
	if err := editSpec(spec, id, opts, args); err != nil {
		return fmt.Errorf("edit config %s: %w", path, err)
	}
	b, err = json.MarshalIndent(spec, "", "\t")
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// editSpec changes runc's default spec to run args without a terminal in a
// writable rootfs (or opts.RootFS, read-only), in the cgroup
// CgroupsPath(id), with the short id as its host name as Docker does, and
// with opts' capabilities and mounts. It drops a cgroup namespace if runc's
// default has one, so that the container sees its full cgroup path.
func editSpec(spec map[string]any, id string, opts Options, args []string) error {
	process, err := object(spec, "process")
	if err != nil {
		return err
	}
	process["args"] = args
	process["terminal"] = false
	process["cwd"] = "/"
	if opts.Capabilities != nil {
		process["capabilities"] = map[string]any{
			"bounding": opts.Capabilities, "effective": opts.Capabilities, "permitted": opts.Capabilities,
		}
	}

	root, err := object(spec, "root")
	if err != nil {
		return err
	}
	root["path"] = "rootfs"
	root["readonly"] = false
	if opts.RootFS != "" {
		root["path"], root["readonly"] = opts.RootFS, true
	}
	mounts, ok := spec["mounts"].([]any)
	if !ok {
		return fmt.Errorf("mounts is %T, not a list", spec["mounts"])
	}
	for _, m := range opts.Mounts {
		options := []string{"rbind", "rw"}
		if m.ReadOnly {
			options[1] = "ro"
		}
		mounts = append(mounts, map[string]any{"destination": m.Destination, "type": "bind", "source": m.Source, "options": options})
	}
	spec["mounts"] = mounts

	spec["hostname"] = id[:min(12, len(id))]

	linux, err := object(spec, "linux")
	if err != nil {
		return err
	}
	linux["cgroupsPath"] = CgroupsPath(id)
	namespaces, ok := linux["namespaces"].([]any)
	if !ok {
		return fmt.Errorf("linux.namespaces is %T, not a list", linux["namespaces"])
	}
	kept := namespaces[:0]
	for _, ns := range namespaces {
		if m, ok := ns.(map[string]any); ok && m["type"] == "cgroup" {
			continue
		}
		kept = append(kept, ns)
	}
	linux["namespaces"] = kept
	return nil
}

// object returns the JSON object under key in m.
func object(m map[string]any, key string) (map[string]any, error) {
	v, ok := m[key].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%q is %T, not an object", key, m[key])
	}
	return v, nil
}
