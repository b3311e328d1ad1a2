// Package vigiltest builds the real vigil binary for the tests that run it
// as its users do: from the command line, a CI job, a container, a service
// manager.
package vigiltest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Build builds vigil from this module's cmd/vigil into dir and returns the
// binary's path.
func Build(t testing.TB, dir string) string {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("vigiltest: go env GOMOD: %v", err)
	}
	bin := filepath.Join(dir, "vigil")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/vigil")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vigiltest: build vigil: %v\n%s", err, out)
	}
	return bin
}
