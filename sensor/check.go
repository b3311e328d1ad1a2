package sensor

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
)

// Requirement is one thing the sensor cannot run without.
type Requirement struct {
	Name string
	Met  bool
	// Fix says, in words a user can act on, why it is missing and what to
	// do; empty when Met.
	Fix string
}

// Requirements checks this machine for what the sensor needs, in the
// order to fix them. A requirement that cannot be checked until an
// earlier one is met is left out.
func Requirements() []Requirement {
	reqs := requirements(effectiveCaps(), btfPath)
	for _, r := range reqs {
		if !r.Met {
			return reqs
		}
	}
	ring := Requirement{Name: "BPF ring buffer (Linux 5.8)", Met: true}
	if err := features.HaveMapType(ebpf.RingBuf); err != nil {
		ring.Met, ring.Fix = false, fmt.Sprintf("the kernel has no BPF ring buffer (%v): vigil needs Linux 5.8 or later", err)
	}
	tps := Requirement{Name: "BTF tracepoints sched_process_exec, sched_process_fork, sched_process_exit", Met: true}
	if spec, err := btf.LoadKernelSpec(); err != nil {
		tps.Met, tps.Fix = false, fmt.Sprintf("read kernel BTF: %v", err)
	} else {
		for _, tp := range []string{"sched_process_exec", "sched_process_fork", "sched_process_exit"} {
			if _, err := tracepointArgs(spec, tp); err != nil {
				tps.Met, tps.Fix = false, fmt.Sprintf("%v: the kernel lacks the scheduler tracepoints vigil attaches to", err)
				break
			}
		}
	}
	return append(reqs, ring, tps)
}

// Capabilities the sensor needs or uses, by their numbers in
// linux/capability.h.
const (
	capDACReadSearch = 2
	capSysPtrace     = 19
	capSysAdmin      = 21
	capPerfmon       = 38
	capBPF           = 39
)

// effectiveCaps returns this process's effective capabilities, as
// /proc/self/status gives them; none when it cannot be read.
func effectiveCaps() uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return 0
			}
			return caps
		}
	}
	return 0
}

// hasCap says caps holds capability c.
func hasCap(caps uint64, c uint) bool { return caps&(1<<c) != 0 }

// canLoad says the capabilities caps let a process load and attach the
// sensor: CAP_BPF with CAP_PERFMON (tracing programs that read kernel
// memory), or CAP_SYS_ADMIN, which stands for both. Root has them all.
func canLoad(caps uint64) bool {
	return hasCap(caps, capBPF) && hasCap(caps, capPerfmon) || hasCap(caps, capSysAdmin)
}

// Recommendations are what vigil runs without, but knows less without:
// reading the /proc entries of every process, for the processes that were
// running before it started.
func Recommendations() []Requirement {
	return recommendations(effectiveCaps())
}

func recommendations(caps uint64) []Requirement {
	ptrace := Requirement{Name: "CAP_SYS_PTRACE: the program and environment of processes older than vigil", Met: hasCap(caps, capSysPtrace)}
	if !ptrace.Met {
		ptrace.Fix = "without it, /proc/PID/exe and environ of other users' processes are unreadable: those running when vigil starts are known by their command line only, until they exec again"
	}
	dac := Requirement{Name: "CAP_DAC_READ_SEARCH: the /proc entries of other users' processes", Met: hasCap(caps, capDACReadSearch)}
	if !dac.Met {
		dac.Fix = "without it, some /proc entries of other users' processes are unreadable when vigil starts"
	}
	return []Requirement{ptrace, dac}
}

// requirements are the checks that need no BPF: privileges, from the
// effective capabilities caps, and BTF.
func requirements(caps uint64, btf string) []Requirement {
	priv := Requirement{Name: "privileges to load eBPF programs (CAP_BPF and CAP_PERFMON)", Met: canLoad(caps)}
	if !priv.Met {
		priv.Fix = "loading the eBPF programs needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN): run vigil as root, or grant it those capabilities (docs/install.md)"
	}
	vmlinux := Requirement{Name: "kernel BTF at " + btf, Met: true}
	if _, err := os.Stat(btf); err != nil {
		vmlinux.Met, vmlinux.Fix = false, fmt.Sprintf("kernel BTF not found at %s: vigil needs a kernel built with CONFIG_DEBUG_INFO_BTF=y", btf)
	}
	return []Requirement{priv, vmlinux}
}

// checkMachine tells, in words a user can act on, why this machine cannot
// load the sensor.
func checkMachine(caps uint64, btf string) error {
	for _, r := range requirements(caps, btf) {
		if !r.Met {
			return errors.New(r.Fix)
		}
	}
	return nil
}
