package otelcoltest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStartWaitsAndStops runs a stand-in for the Collector: a script that
// logs like it (its arguments and environment too), becomes ready only
// after a while, and exits on SIGTERM.
func TestStartWaitsAndStops(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "otelcol")
	script := `#!/bin/sh
trap 'echo "Shutdown complete." >&2; exit 0' TERM
echo "args: $*" >&2
echo "env: OTELCOLTEST_X=$OTELCOLTEST_X" >&2
sleep 0.3
echo "` + readyLine + `. Begin running and processing data." >&2
while :; do sleep 0.05; done
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c := Start(t, bin, []string{"OTELCOLTEST_X=1"}, "a.yaml", "b.yaml")
	if log := c.Log(); !strings.Contains(log, "args: --config a.yaml --config b.yaml") || !strings.Contains(log, readyLine) {
		t.Fatalf("Start returned before the ready line, or passed other arguments:\n%s", log)
	}
	if !strings.Contains(c.Log(), "env: OTELCOLTEST_X=1") {
		t.Fatalf("Start did not add env to the Collector's environment:\n%s", c.Log())
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v\n%s", err, c.Log())
	}
	if !strings.Contains(c.Log(), "Shutdown complete.") {
		t.Fatalf("stopped without SIGTERM:\n%s", c.Log())
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("a second Stop: %v", err)
	}
}

// TestKillGivesNoChanceToShutDown kills a stand-in that would log on
// SIGTERM: it logs nothing, is gone when Kill returns, and a Stop after it
// (the test's cleanup) reports nothing.
func TestKillGivesNoChanceToShutDown(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "otelcol")
	script := `#!/bin/sh
trap 'echo "Shutdown complete." >&2; exit 0' TERM
echo "` + readyLine + `." >&2
while :; do sleep 0.05; done
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c := Start(t, bin, nil)
	if err := c.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	select {
	case <-c.done:
	default:
		t.Fatal("Kill returned before the process was gone")
	}
	if strings.Contains(c.Log(), "Shutdown complete.") {
		t.Fatalf("killed through SIGTERM:\n%s", c.Log())
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop after Kill: %v", err)
	}
}
