package sensor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/cilium/ebpf/btf"

	"github.com/vigil-otel/vigil/bpf"
)

// Features are the parts of the kernel's BPF support that the programs
// use when the kernel has them. Each one missing selects a variant that
// gathers the same facts another way, at some cost; none is required.
// They are read from the kernel's own type information (BTF), never
// inferred from its version.
type Features struct {
	// Loop: the bpf_loop helper (Linux 5.17). Paths, the cgroup and the
	// environment are walked in its callback; without it, in bounded
	// loops, in a program variant of their own that scans the environment
	// in tail calls, a chunk at a time.
	Loop bool
	// RdonlyCast: the bpf_rdonly_cast kfunc (6.2). The path walks read
	// struct mount by direct loads; without it, by probe reads.
	RdonlyCast bool
	// Strnlen: the bpf_strnlen kfunc (6.17). Environment strings are
	// measured in place; without it, by a bounded copy.
	Strnlen bool
	// ExitGroupDead: sched_process_exit says whether the exiting thread is
	// the last of its process (6.16); without it, the thread group's live
	// count says so.
	ExitGroupDead bool
	// OverlayLayer: the overlay filesystem's inode type is known, in the
	// kernel's BTF or in the overlay module's, loaded before the sensor.
	// Without it, an exec from an overlay cannot tell its layer.
	OverlayLayer bool
	// ModuleBTF: the kernel publishes the BTF of its modules (Linux 5.11,
	// CONFIG_DEBUG_INFO_BTF_MODULES), where a modular overlayfs's types are.
	ModuleBTF bool
	// LoginUID: the kernel keeps an audit login uid (CONFIG_AUDITSYSCALL).
	LoginUID bool
}

// Fact is one fact of an exec that a kernel may be unable to give, by the
// name recipes use for it.
type Fact struct {
	Name string
	// Why the kernel cannot give it, and what to do about it.
	Why string
}

// Unavailable lists the facts these features cannot give.
func (f Features) Unavailable() []Fact {
	var facts []Fact
	switch {
	case f.OverlayLayer:
	case !f.ModuleBTF:
		facts = append(facts, Fact{"overlay_upper", "this kernel publishes no BTF for its modules (CONFIG_DEBUG_INFO_BTF_MODULES, Linux 5.11), so which layer of an overlay a program comes from is unknown"})
	default:
		facts = append(facts, Fact{"overlay_upper", "the overlay module was not loaded when vigil started, so which layer of an overlay a program comes from is unknown; load it first (modprobe overlay), as a container runtime does"})
	}
	if !f.LoginUID {
		facts = append(facts, Fact{"loginuid", "the kernel keeps no audit login uid (CONFIG_AUDITSYSCALL is off); every exec reads as not logged in"})
	}
	return facts
}

// Feature describes one of Features for people.
type Feature struct {
	Name      string // the helper, kfunc or tracepoint argument
	Needs     string // what a kernel needs to have it: a release, a module, an option
	Available bool
	// Variant is what the sensor does on this kernel.
	Variant string
}

// List describes each feature, in a fixed order.
func (f Features) List() []Feature {
	pick := func(ok bool, with, without string) string {
		if ok {
			return with
		}
		return without
	}
	return []Feature{
		{"bpf_loop helper", "Linux 5.17", f.Loop, pick(f.Loop, "walks paths and the environment in bpf_loop", "walks them in bounded loops and tail calls (handle_exec_bounded)")},
		{"bpf_rdonly_cast kfunc", "Linux 6.2", f.RdonlyCast, pick(f.RdonlyCast, "reads mounts directly", "reads mounts with probe reads")},
		{"bpf_strnlen kfunc", "Linux 6.17", f.Strnlen, pick(f.Strnlen, "measures environment strings in place", "measures environment strings by copying them")},
		{"sched_process_exit group_dead", "Linux 6.16", f.ExitGroupDead, pick(f.ExitGroupDead, "takes a process's end from the tracepoint", "takes a process's end from its live thread count (handle_exit_live)")},
		{"overlay inode type (BTF)", "overlayfs BTF, loaded before vigil", f.OverlayLayer, pick(f.OverlayLayer, "tells an overlay's upper layer from its lower ones", "flags execs from an overlay as of unknown layer")},
		{"audit login uid", "CONFIG_AUDITSYSCALL", f.LoginUID, pick(f.LoginUID, "reads the login uid", "reports no login uid")},
	}
}

// ProbeFeatures reads what the running kernel offers from its BTF.
func ProbeFeatures() (Features, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return Features{}, fmt.Errorf("read kernel BTF: %w", err)
	}
	f, err := featuresOf(spec)
	if err != nil {
		return f, err
	}
	// The kernel's BTF is one file of /sys/kernel/btf; each module's is
	// another, there while the module is loaded.
	entries, err := os.ReadDir(filepath.Dir(btfPath))
	if err != nil {
		return f, fmt.Errorf("list kernel BTF: %w", err)
	}
	f.ModuleBTF = len(entries) > 1
	if f.OverlayLayer {
		return f, nil
	}
	// A modular overlayfs has its types in its own BTF, there only while
	// the module is loaded, which is when the loader can use them too.
	if mod, err := btf.LoadKernelModuleSpec("overlay"); err == nil {
		f.OverlayLayer, err = has[*btf.Struct](mod, "ovl_inode")
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

// featuresOf reads the features from a kernel's BTF: a helper is known to
// the kernel when enum bpf_func_id names it, a kfunc when the kernel has a
// function of its name (which is how the loader resolves it), and a
// tracepoint's arguments are those of its btf_trace_ typedef.
func featuresOf(spec *btf.Spec) (Features, error) {
	var f Features
	var ids *btf.Enum
	if err := spec.TypeByName("bpf_func_id", &ids); err != nil {
		return f, fmt.Errorf("kernel BTF has no enum bpf_func_id: %w", err)
	}
	for _, v := range ids.Values {
		if v.Name == "BPF_FUNC_loop" {
			f.Loop = true
		}
	}
	var err error
	if f.RdonlyCast, err = has[*btf.Func](spec, "bpf_rdonly_cast"); err != nil {
		return f, err
	}
	if f.Strnlen, err = has[*btf.Func](spec, "bpf_strnlen"); err != nil {
		return f, err
	}
	args, err := tracepointArgs(spec, "sched_process_exit")
	if err != nil {
		return f, err
	}
	// The first parameter is the tracepoint's context, then its arguments:
	// (task) before 6.16, (task, group_dead) from then on.
	f.ExitGroupDead = args >= 3
	if f.OverlayLayer, err = has[*btf.Struct](spec, "ovl_inode"); err != nil {
		return f, err
	}
	var task *btf.Struct
	if err := spec.TypeByName("task_struct", &task); err != nil {
		return f, fmt.Errorf("kernel BTF has no struct task_struct: %w", err)
	}
	f.LoginUID = slices.ContainsFunc(task.Members, func(m btf.Member) bool { return m.Name == "loginuid" })
	return f, nil
}

// has says whether spec holds a type of T named name: a kfunc is a
// *btf.Func, a kernel structure a *btf.Struct.
func has[T btf.Type](spec *btf.Spec, name string) (bool, error) {
	var typ T
	err := spec.TypeByName(name, &typ)
	if errors.Is(err, btf.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up %s in BTF: %w", name, err)
	}
	return true, nil
}

// tracepointArgs returns the number of parameters of a tracepoint's probe
// function, its context included.
func tracepointArgs(spec *btf.Spec, tracepoint string) (int, error) {
	var td *btf.Typedef
	name := "btf_trace_" + tracepoint
	if err := spec.TypeByName(name, &td); err != nil {
		return 0, fmt.Errorf("kernel BTF has no %s: %w", name, err)
	}
	ptr, ok := td.Type.(*btf.Pointer)
	if !ok {
		return 0, fmt.Errorf("%s is a %s, not a pointer to a function", name, td.Type)
	}
	proto, ok := ptr.Target.(*btf.FuncProto)
	if !ok {
		return 0, fmt.Errorf("%s points to a %s, not a function", name, ptr.Target)
	}
	return len(proto.Params), nil
}

// programs names the program variant of each hook that f selects.
func (f Features) programs() (exec, exit string) {
	exec, exit = bpf.SensorProgHandleExec, bpf.SensorProgHandleExit
	if !f.Loop {
		exec = bpf.SensorProgHandleExecBounded
	}
	if !f.ExitGroupDead {
		exit = bpf.SensorProgHandleExitLive
	}
	return exec, exit
}
