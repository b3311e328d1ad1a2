// Package action_test runs the GitHub Action's own tests (action/test,
// Node's test runner) against the real vigil, built here, so that the
// README's one test command covers the Action too.
package action_test

import (
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/vigil-otel/vigil/internal/vigiltest"
)

func TestAction(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the Action's tests start vigil, which needs root")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed: .ci/run installs nodejs for the Action's tests")
		}
		t.Skip("node is not installed")
	}
	bin := vigiltest.Build(t, t.TempDir())
	// The release the Action downloads, made by the script that makes
	// releases (for this machine's architecture only: the other one is
	// built by .ci/run's arm64 build already).
	release := t.TempDir()
	if out, err := exec.Command("../release/build.sh", release, runtime.GOARCH).CombinedOutput(); err != nil {
		t.Fatalf("release/build.sh: %v\n%s", err, out)
	}
	cmd := exec.Command(node, "--test", "test/action.test.js")
	cmd.Env = append(os.Environ(), "VIGIL_BINARY="+bin, "VIGIL_RELEASE_DIR="+release)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("the Action's tests failed: %v", err)
	}
}
