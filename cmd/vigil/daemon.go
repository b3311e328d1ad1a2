package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

// Daemon mode: vigil run --detach starts vigil in the background and
// returns once it watches, so that the steps after it are watched; vigil
// stop ends it and waits until it has flushed and written its reports.
// This is what the GitHub Action does in its pre and post steps, and what
// any CI system can do in two lines.

// startTimeout bounds how long --detach waits for vigil to be attached:
// loading the programs and reading /proc take a second or two.
const startTimeout = 2 * time.Minute

// readyLine is what the background vigil writes on its readiness pipe
// once it watches.
const readyLine = "ready\n"

type daemonOptions struct {
	detach  bool
	pidFile string
	logFile string
	// readyFD is the readiness pipe a detaching parent gave (hidden).
	readyFD int
}

func (o *daemonOptions) flags(f *pflag.FlagSet) {
	f.BoolVar(&o.detach, "detach", false, "start in the background and return once the machine is watched; needs --pid-file (vigil stop ends it)")
	f.StringVar(&o.pidFile, "pid-file", "", "write vigil's pid to `PATH` once it watches, and remove it at exit")
	f.StringVar(&o.logFile, "log-file", "", "with --detach, where vigil's own logs go (default: the pid file's path with its extension replaced by .log)")
	f.IntVar(&o.readyFD, "ready-fd", 0, "")
	_ = f.MarkHidden("ready-fd")
}

// logPath is where a detached vigil logs.
func (o *daemonOptions) logPath() string {
	if o.logFile != "" {
		return o.logFile
	}
	return strings.TrimSuffix(o.pidFile, filepath.Ext(o.pidFile)) + ".log"
}

// detach starts this vigil again in the background, in a session of its
// own, with args less --detach, and waits until it says it watches.
// Its logs go to a file: a CI step whose output pipe stayed open in a
// background process would never end.
func detach(args []string, o daemonOptions, stderr io.Writer) error {
	if o.pidFile == "" {
		return errors.New("--detach needs --pid-file: vigil stop finds vigil by it")
	}
	if pid := running(o.pidFile); pid != 0 {
		return fmt.Errorf("vigil already runs as pid %d with the pid file %s: stop it first (vigil stop --pid-file %s)", pid, o.pidFile, o.pidFile)
	}
	logPath := o.logPath()
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("--detach: open the log: %w", err)
	}
	defer logf.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("--detach: %w", err)
	}
	defer r.Close()
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--detach: find vigil's own binary: %w", err)
	}
	child := exec.Command(exe, append(withoutDetach(args), "--ready-fd=3")...)
	child.Stdout, child.Stderr = logf, logf
	child.ExtraFiles = []*os.File{w}
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = child.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("--detach: start vigil: %w", err)
	}

	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		ready <- line == readyLine
	}()
	select {
	case ok := <-ready:
		if ok {
			fmt.Fprintf(stderr, "vigil: watching the machine as pid %d, logging to %s; stop it with: vigil stop --pid-file %s\n", child.Process.Pid, logPath, o.pidFile)
			return child.Process.Release()
		}
	case <-time.After(startTimeout):
		_ = child.Process.Kill()
	}
	// It ended, or was killed, before it watched: its log says why.
	werr := child.Wait()
	code := 1
	if ee, ok := werr.(*exec.ExitError); ok && ee.ExitCode() > 0 {
		code = ee.ExitCode()
	}
	return &exitError{code: code, err: fmt.Errorf("vigil did not start watching; %s says:\n%s", logPath, tail(logPath, 20))}
}

// withoutDetach returns args less --detach, in either of its spellings.
func withoutDetach(args []string) []string {
	return slices.DeleteFunc(slices.Clone(args), func(a string) bool {
		return a == "--detach" || strings.HasPrefix(a, "--detach=")
	})
}

// tail returns the last n lines of the file at path, or why not.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// announce tells whoever waits that vigil watches: the pid file, systemd
// (Type=notify), then the readiness pipe of a detaching parent. It returns
// a function that removes the pid file.
func (o *daemonOptions) announce() (func(), error) {
	cleanup := func() {}
	if o.pidFile != "" {
		if pid := running(o.pidFile); pid != 0 {
			return cleanup, fmt.Errorf("vigil already runs as pid %d with the pid file %s", pid, o.pidFile)
		}
		if err := writePIDFile(o.pidFile); err != nil {
			return cleanup, err
		}
		path := o.pidFile
		cleanup = func() {
			// Only its own: another vigil may have taken the path since.
			if pid, err := readPIDFile(path); err == nil && pid == os.Getpid() {
				_ = os.Remove(path)
			}
		}
	}
	if err := notifySystemd("READY=1\nSTATUS=watching"); err != nil {
		return cleanup, err
	}
	if o.readyFD > 0 {
		f := os.NewFile(uintptr(o.readyFD), "ready")
		_, err := f.WriteString(readyLine)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return cleanup, fmt.Errorf("say ready: %w", err)
		}
	}
	return cleanup, nil
}

// notifySystemd sends state to the service manager's notification socket
// ($NOTIFY_SOCKET, a path or an @abstract name), as sd_notify(3) does;
// without the variable it does nothing.
func notifySystemd(state string) error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("systemd notification socket %s: %w", addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	return nil
}

// writePIDFile writes this process's pid to path, whole or not at all: a
// reader never sees half a number.
func writePIDFile(path string) error {
	// A fresh temporary file, never one a link points at.
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	_, err = f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}

func readPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: not a pid: %q", path, bytes.TrimSpace(b))
	}
	return pid, nil
}

func newStopCommand(stderr io.Writer) *cobra.Command {
	var (
		pidFile string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "stop --pid-file PATH",
		Short: "Stop a vigil started with --detach, and wait until it has flushed and written its reports",
		Long: `vigil stop sends SIGTERM to the vigil whose pid file is PATH, and waits
until it has ended: its detections flushed, its reports written, its pid
file removed. It exits 1 when that vigil is not running (it ended on its
own: its log says why) or did not end within --timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return signalDaemon(pidFile, unix.SIGTERM, func(d *daemon) error {
				fmt.Fprintf(stderr, "vigil: stopping pid %d\n", d.pid)
				return d.wait(timeout)
			})
		},
	}
	cmd.Flags().StringVar(&pidFile, "pid-file", "", "the pid file of the vigil to stop (`PATH`)")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "how long to wait for it to end")
	return cmd
}

func newReloadCommand(stderr io.Writer) *cobra.Command {
	var pidFile string
	cmd := &cobra.Command{
		Use:   "reload --pid-file PATH",
		Short: "Have a vigil started with --detach reload its recipe files (SIGHUP)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return signalDaemon(pidFile, unix.SIGHUP, func(d *daemon) error {
				fmt.Fprintf(stderr, "vigil: pid %d reloads its recipes\n", d.pid)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&pidFile, "pid-file", "", "the pid file of the vigil (`PATH`)")
	return cmd
}

// signalDaemon sends sig to the vigil of pidFile, then runs then.
func signalDaemon(pidFile string, sig unix.Signal, then func(*daemon) error) error {
	d, err := openDaemon(pidFile)
	if err != nil {
		return err
	}
	defer d.close()
	if err := d.signal(sig); err != nil {
		return err
	}
	return then(d)
}

// daemon is a running vigil found by its pid file, held by a pidfd taken
// before the check that the process is that vigil, so that a pid reused
// meanwhile is never signalled.
type daemon struct {
	pid int
	fd  int
}

// openDaemon finds the vigil that pidFile names, running and with that
// pid file on its command line.
func openDaemon(pidFile string) (*daemon, error) {
	if pidFile == "" {
		return nil, errors.New("--pid-file is required")
	}
	pid, err := readPIDFile(pidFile)
	if err != nil {
		return nil, err
	}
	notRunning := fmt.Errorf("vigil (pid %d, from %s) is not running: it ended on its own (its log says why), or the pid file is stale", pid, pidFile)
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil, notRunning
	}
	if err != nil {
		return nil, fmt.Errorf("pidfd of %d: %w", pid, err)
	}
	d := &daemon{pid: pid, fd: fd}
	if ended(pid) {
		// A zombie that nobody reaped: a detached vigil's parent is gone.
		d.close()
		return nil, notRunning
	}
	if !runsWith(pid, pidFile) {
		d.close()
		return nil, fmt.Errorf("pid %d of %s is not the vigil that wrote it: not signalled", pid, pidFile)
	}
	return d, nil
}

func (d *daemon) close() { _ = unix.Close(d.fd) }

func (d *daemon) signal(sig unix.Signal) error {
	if err := unix.PidfdSendSignal(d.fd, sig, nil, 0); err != nil {
		return fmt.Errorf("signal vigil (pid %d): %w", d.pid, err)
	}
	return nil
}

// wait waits until the vigil has ended: a pidfd becomes readable then.
func (d *daemon) wait(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("vigil (pid %d) did not end within %s", d.pid, timeout)
		}
		fds := []unix.PollFd{{Fd: int32(d.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(min(left, time.Second).Milliseconds()))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for vigil (pid %d): %w", d.pid, err)
		}
		if n > 0 {
			return nil
		}
	}
}

// runsWith says the process pid is a vigil run whose pid file is pidFile.
func runsWith(pid int, pidFile string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	cwd, cwdErr := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	abs, absErr := filepath.Abs(pidFile)
	return err == nil && cwdErr == nil && absErr == nil && isDaemonOf(cmdline, cwd, abs)
}

// running returns the pid of a vigil that already runs with pidFile, 0
// when none does.
func running(pidFile string) int {
	pid, err := readPIDFile(pidFile)
	if err != nil || ended(pid) || !runsWith(pid, pidFile) {
		return 0
	}
	return pid
}

// ended says the process pid has ended and waits to be reaped.
func ended(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name, which may hold anything but
	// ends at the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X'
}

// isDaemonOf says a command line (NUL-separated, as /proc gives it) of a
// process working in cwd is a vigil run whose pid file is pidFile, an
// absolute path.
func isDaemonOf(cmdline []byte, cwd, pidFile string) bool {
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if !slices.Contains(args, "run") {
		return false
	}
	same := func(p string) bool {
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		return filepath.Clean(p) == pidFile
	}
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--pid-file="); ok && same(v) || a == "--pid-file" && i+1 < len(args) && same(args[i+1]) {
			return true
		}
	}
	return false
}
