package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// vigil stop and vigil reload: they reach a detached vigil through its pid
// file, and signal it by a pidfd so that a pid reused meanwhile is never hit.

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
