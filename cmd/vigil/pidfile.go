package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// The pid file names a detached vigil; before a pid read from it is
// trusted, /proc must show that process is still the vigil that wrote it.

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
