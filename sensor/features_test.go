package sensor

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
	"github.com/stretchr/testify/require"
)

// kernelBTF builds the parts of a kernel's BTF that featuresOf reads.
func kernelBTF(t *testing.T, helpers []string, kfuncs []string, exitArgs int) *btf.Spec {
	t.Helper()
	ids := &btf.Enum{Name: "bpf_func_id", Size: 4}
	for i, h := range append([]string{"BPF_FUNC_unspec", "BPF_FUNC_map_lookup_elem"}, helpers...) {
		ids.Values = append(ids.Values, btf.EnumValue{Name: h, Value: uint64(i)})
	}
	void := &btf.Pointer{Target: (*btf.Void)(nil)}
	proto := &btf.FuncProto{Return: (*btf.Void)(nil)}
	for range exitArgs {
		proto.Params = append(proto.Params, btf.FuncParam{Type: void})
	}
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	task := &btf.Struct{Name: "task_struct", Size: 4, Members: []btf.Member{{Name: "pid", Type: u32}}}
	types := []btf.Type{ids, task, &btf.Typedef{Name: "btf_trace_sched_process_exit", Type: &btf.Pointer{Target: proto}}}
	for _, k := range kfuncs {
		types = append(types, &btf.Func{Name: k, Type: &btf.FuncProto{Return: (*btf.Void)(nil)}, Linkage: btf.GlobalFunc})
	}
	// The newest kernel of the table has audit and overlayfs built in.
	if exitArgs == 3 {
		task.Members = append(task.Members, btf.Member{Name: "loginuid", Type: u32, Offset: 32})
		task.Size = 8
		types = append(types, &btf.Struct{Name: "ovl_inode", Size: 4, Members: []btf.Member{{Name: "flags", Type: u32}}})
	}
	b, err := btf.NewBuilder(types, nil)
	require.NoError(t, err)
	spec, err := b.Spec()
	require.NoError(t, err)
	return spec
}

func TestFeaturesAreReadFromTheKernelsBTF(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   *btf.Spec
		want   Features
		exec   string
		exitFn string
	}{
		{"5.10", kernelBTF(t, nil, nil, 2), Features{}, "handle_exec_bounded", "handle_exit_live"},
		{"6.1", kernelBTF(t, []string{"BPF_FUNC_loop"}, nil, 2), Features{Loop: true}, "handle_exec", "handle_exit_live"},
		{"6.12", kernelBTF(t, []string{"BPF_FUNC_loop"}, []string{"bpf_rdonly_cast"}, 2), Features{Loop: true, RdonlyCast: true}, "handle_exec", "handle_exit_live"},
		{"6.18", kernelBTF(t, []string{"BPF_FUNC_loop"}, []string{"bpf_rdonly_cast", "bpf_strnlen"}, 3), Features{Loop: true, RdonlyCast: true, Strnlen: true, ExitGroupDead: true, OverlayLayer: true, LoginUID: true}, "handle_exec", "handle_exit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := featuresOf(tc.spec)
			require.NoError(t, err)
			require.Equal(t, tc.want, f)
			if f.LoginUID {
				require.Empty(t, f.Unavailable())
			} else {
				require.Len(t, f.Unavailable(), 2, "overlay_upper and loginuid")
			}
			exec, exit := f.programs()
			require.Equal(t, tc.exec, exec)
			require.Equal(t, tc.exitFn, exit)
		})
	}
}

func TestFeaturesOfAKernelWithoutHelperIDs(t *testing.T) {
	b, err := btf.NewBuilder([]btf.Type{&btf.Int{Name: "int", Size: 4}}, nil)
	require.NoError(t, err)
	spec, err := b.Spec()
	require.NoError(t, err)
	_, err = featuresOf(spec)
	require.ErrorContains(t, err, "bpf_func_id")
}

// featuresEnv, in a test process's environment, names the features the
// sensor under test may use ("none", or a comma-separated list of loop,
// rdonly_cast, strnlen, exit_group_dead), so that a machine with every
// feature also runs the variants of the kernels that lack them.
const featuresEnv = "VIGIL_TEST_FEATURES"

// testFeatures returns the features featuresEnv names, or nil to probe.
func testFeatures(t *testing.T) *Features {
	t.Helper()
	v, ok := os.LookupEnv(featuresEnv)
	if !ok {
		return nil
	}
	// What the kernel cannot change about the facts stays as probed.
	f, err := ProbeFeatures()
	require.NoError(t, err)
	f.Loop, f.RdonlyCast, f.Strnlen, f.ExitGroupDead = false, false, false, false
	for _, name := range strings.Split(v, ",") {
		switch name {
		case "none", "":
		case "loop":
			f.Loop = true
		case "rdonly_cast":
			f.RdonlyCast = true
		case "strnlen":
			f.Strnlen = true
		case "exit_group_dead":
			f.ExitGroupDead = true
		default:
			t.Fatalf("%s: unknown feature %q", featuresEnv, name)
		}
	}
	return &f
}

// TestFactsOnEveryVariant runs the tests that load the sensor again under
// each variant an older kernel would get, on this machine's kernel: every
// fact must come out the same. The kernels themselves are booted by
// kernels/run.sh.
func TestFactsOnEveryVariant(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loading eBPF programs needs root")
	}
	if _, ok := os.LookupEnv(featuresEnv); ok {
		t.Skip("already a variant's run")
	}
	host, err := ProbeFeatures()
	require.NoError(t, err)
	for _, tc := range []struct {
		kernels string
		env     string
		needs   Features
	}{
		{"5.10 to 5.16", "none", Features{}},
		{"5.17 to 6.1", "loop", Features{Loop: true}},
		{"6.2 to 6.15", "loop,rdonly_cast", Features{Loop: true, RdonlyCast: true}},
		{"6.16", "loop,rdonly_cast,exit_group_dead", Features{Loop: true, RdonlyCast: true, ExitGroupDead: true}},
	} {
		t.Run(tc.kernels, func(t *testing.T) {
			if (tc.needs.Loop && !host.Loop) || (tc.needs.RdonlyCast && !host.RdonlyCast) || (tc.needs.ExitGroupDead && !host.ExitGroupDead) {
				t.Skipf("this kernel lacks part of %s", tc.env)
			}
			// Every test that loads the sensor, but the long storm.
			cmd := exec.Command(os.Args[0], "-test.run", "^Test(Exec[^S]|Setuid|Environment|Context|Overlay|Huge|Container|Child|Follow|LongArgv|Stats)", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), featuresEnv+"="+tc.env)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			require.Contains(t, string(out), "--- PASS: TestExecResolvesPaths")
			require.NotContains(t, string(out), "--- SKIP")
		})
	}
}
