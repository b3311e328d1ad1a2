package sensor

import (
	"errors"
	"fmt"
	"os"

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
	reqs := requirements(os.Geteuid(), btfPath)
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

// requirements are the checks that need no BPF: privileges and BTF.
func requirements(euid int, btf string) []Requirement {
	root := Requirement{Name: "running as root", Met: euid == 0}
	if !root.Met {
		root.Fix = "must run as root: loading eBPF programs needs CAP_BPF and CAP_PERFMON"
	}
	vmlinux := Requirement{Name: "kernel BTF at " + btf, Met: true}
	if _, err := os.Stat(btf); err != nil {
		vmlinux.Met, vmlinux.Fix = false, fmt.Sprintf("kernel BTF not found at %s: vigil needs a kernel built with CONFIG_DEBUG_INFO_BTF=y", btf)
	}
	return []Requirement{root, vmlinux}
}

// checkMachine tells, in words a user can act on, why this machine cannot
// load the sensor.
func checkMachine(euid int, btf string) error {
	for _, r := range requirements(euid, btf) {
		if !r.Met {
			return errors.New(r.Fix)
		}
	}
	return nil
}
