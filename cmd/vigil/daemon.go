package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
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
