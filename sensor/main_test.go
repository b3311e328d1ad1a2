package sensor

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// helperEnv, when set in the environment of this test binary, makes it run
// the named helper instead of the tests. Some tests need a process that
// does something unusual right before an exec (create a memfd, unlink its
// own program); the test binary re-executing itself does that with nothing
// else installed, which keeps the tests runnable in a minimal VM.
const helperEnv = "VIGIL_SENSOR_TEST_HELPER"

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		err := runHelper(name, os.Args[1:])
		// runHelper returns only when its exec failed.
		fmt.Fprintf(os.Stderr, "sensor test helper %s: %v\n", name, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// helperCommand returns a command that runs this test binary as the helper
// name with args.
func helperCommand(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatalf("locate the test binary: %v", err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), helperEnv+"="+name)
	return cmd
}

// runHelper runs the helper name. Each helper ends by replacing the process
// with another program, so it returns only on error.
//
//	exec-memfd SRC ARGV0     copy SRC into a memfd named "vigil-fileless" and
//	                         exec it through /proc/self/fd/N with argv [ARGV0]
//	exec-deleted PATH ARGV0  open PATH, unlink it, and exec the open file
//	                         through /proc/self/fd/N with argv [ARGV0]
func runHelper(name string, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("want 2 arguments, got %q", args)
	}
	var fd int
	switch name {
	case "exec-memfd":
		data, err := os.ReadFile(args[0])
		if err != nil {
			return err
		}
		// Flags 0: the memfd stays open across the exec, as a dropper's does.
		if fd, err = unix.MemfdCreate("vigil-fileless", 0); err != nil {
			return fmt.Errorf("memfd_create: %w", err)
		}
		for len(data) > 0 {
			n, err := unix.Write(fd, data)
			if err != nil {
				return fmt.Errorf("write memfd: %w", err)
			}
			data = data[n:]
		}
	case "exec-deleted":
		var err error
		if fd, err = unix.Open(args[0], unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return fmt.Errorf("open %s: %w", args[0], err)
		}
		if err := unix.Unlink(args[0]); err != nil {
			return fmt.Errorf("unlink %s: %w", args[0], err)
		}
	default:
		return fmt.Errorf("unknown helper")
	}
	path := fmt.Sprintf("/proc/self/fd/%d", fd)
	return fmt.Errorf("exec %s: %w", path, unix.Exec(path, []string{args[1]}, os.Environ()))
}
