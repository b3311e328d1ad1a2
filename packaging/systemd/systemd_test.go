// Package systemd_test checks vigil's systemd unit with systemd's own
// verifier; cmd/vigil's tests check the readiness and reload
// notifications it relies on against a real notification socket.
package systemd_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/vigiltest"
)

func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is not installed: .ci/run installs systemd")
		}
		t.Skip("systemd-analyze is not installed")
	}
	unit, err := os.ReadFile("vigil.service")
	require.NoError(t, err)
	// The verifier wants the programs the unit runs to exist: vigil, as
	// built here, where the unit expects /usr/local/bin/vigil.
	dir := t.TempDir()
	bin := vigiltest.Build(t, dir)
	require.Contains(t, string(unit), "/usr/local/bin/vigil ")
	path := filepath.Join(dir, "vigil.service")
	require.NoError(t, os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/vigil", bin)), 0o644))

	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Empty(t, strings.TrimSpace(string(out)), "no warning either")

	// What the unit promises: readiness by notification, reload by SIGHUP,
	// a stop long enough for the 15 s flush.
	for _, line := range []string{"Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "TimeoutStopSec=45",
		"CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_SYS_RESOURCE CAP_SYS_PTRACE CAP_DAC_READ_SEARCH"} {
		require.Contains(t, string(unit), "\n"+line+"\n")
	}
}
