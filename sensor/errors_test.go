package sensor

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/require"
)

func TestCheckMachineExplains(t *testing.T) {
	const (
		root      = uint64(1)<<41 - 1
		bpfOnly   = uint64(1) << capBPF
		leastSet  = uint64(1)<<capBPF | uint64(1)<<capPerfmon
		adminOnly = uint64(1) << capSysAdmin
	)
	for _, caps := range []uint64{0, bpfOnly} {
		require.EqualError(t, checkMachine(caps, btfPath), "loading the eBPF programs needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN): run vigil as root, or grant it those capabilities (docs/install.md)")
	}
	missing := filepath.Join(t.TempDir(), "vmlinux")
	require.EqualError(t, checkMachine(root, missing), "kernel BTF not found at "+missing+": vigil needs a kernel built with CONFIG_DEBUG_INFO_BTF=y")
	for _, caps := range []uint64{root, leastSet, adminOnly} {
		require.NoError(t, checkMachine(caps, t.TempDir()))
	}
	require.True(t, canLoad(effectiveCaps()), "the tests run as root")

	for _, r := range recommendations(leastSet) {
		require.False(t, r.Met, r.Name)
		require.NotEmpty(t, r.Fix)
	}
	for _, r := range recommendations(root) {
		require.True(t, r.Met, r.Name)
	}
}

func TestVerifierRejectionShowsTheLogTail(t *testing.T) {
	log := make([]string, 30)
	for i := range log {
		log[i] = fmt.Sprintf("%d: insn", i)
	}
	log[29] = "R1 invalid mem access 'scalar'"
	verr := &ebpf.VerifierError{Cause: errors.New("permission denied"), Log: log}
	err := explainLoadError(fmt.Errorf("program handle_exec: %w", verr))

	msg := err.Error()
	require.True(t, strings.HasPrefix(msg, "the kernel's verifier rejected vigil's programs: program handle_exec:"), msg)
	require.Contains(t, msg, "R1 invalid mem access 'scalar'")
	require.Contains(t, msg, "10: insn")
	require.NotContains(t, msg, "\n9: insn", "only the last lines")
	require.ErrorIs(t, err, verr)
}
