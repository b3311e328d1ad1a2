package containertest

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// What the helpers need of the machine: root, runc and a static busybox;
// when one is missing the test fails and names the package to install.

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
