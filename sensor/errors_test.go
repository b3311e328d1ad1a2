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
	require.EqualError(t, checkMachine(1000, btfPath), "must run as root: loading eBPF programs needs CAP_BPF and CAP_PERFMON")
	missing := filepath.Join(t.TempDir(), "vmlinux")
	require.EqualError(t, checkMachine(0, missing), "kernel BTF not found at "+missing+": vigil needs a kernel built with CONFIG_DEBUG_INFO_BTF=y")
	require.NoError(t, checkMachine(0, t.TempDir()))
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
