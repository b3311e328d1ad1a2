package sensor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/vigil-otel/vigil/event"
)

// BenchmarkExecVariants measures what each program variant costs the
// kernel per exec, from the kernel's own BPF run-time statistics: the exec
// program and, for the bounded variant, its tail-called environment scan.
// The execs carry a CI job's environment (60 variables, 12 allow-listed)
// from a path four directories deep. Compare the variants by bpf-ns/exec,
// as ratios to "all" in the same run; ns/op is the whole fork and exec.
//
//	go test -run '^$' -bench ExecVariants -benchtime 2000x ./sensor
func BenchmarkExecVariants(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("loading eBPF programs needs root")
	}
	host, err := ProbeFeatures()
	require.NoError(b, err)
	probe := probeBinary(b, "/bin/true", "vigil-bench")
	env := []string{"PATH=/usr/bin:/bin", "TRACEPARENT=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	for i := range 47 {
		env = append(env, fmt.Sprintf("RUNNER_SETTING_%02d=%s", i, "value-of-some-length-/home/runner/work"))
	}
	for _, name := range []string{"CI", "GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITHUB_JOB", "GITHUB_WORKFLOW", "GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_REF", "RUNNER_NAME", "GITHUB_SERVER_URL", "GITHUB_TOKEN"} {
		env = append(env, name+"=some-value")
	}
	for _, tc := range []struct {
		name string
		f    Features
	}{
		{"all", host},
		{"no_strnlen", Features{Loop: true, RdonlyCast: true, ExitGroupDead: host.ExitGroupDead}},
		{"loop_only", Features{Loop: true}},
		{"bounded", Features{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
			require.NoError(b, err)
			defer stats.Close()
			tc.f.OverlayLayer, tc.f.LoginUID = host.OverlayLayer, host.LoginUID
			s, err := New(Config{Features: &tc.f, Follow: uint32(os.Getpid())})
			require.NoError(b, err)
			defer s.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx, func(*event.Event) {}) }()

			dir := b.TempDir()
			for b.Loop() {
				cmd := exec.Command(probe, "--flag", "value")
				cmd.Env, cmd.Dir = env, dir
				require.NoError(b, cmd.Run())
			}
			var runtime, runs uint64
			for _, p := range []*ebpf.Program{s.progs[2], s.tail} {
				if p == nil {
					continue
				}
				st, err := p.Stats()
				require.NoError(b, err)
				runtime += uint64(st.Runtime)
				if p == s.progs[2] {
					runs = st.RunCount
				}
			}
			cancel()
			require.NoError(b, <-done)
			b.ReportMetric(float64(runtime)/float64(runs), "bpf-ns/exec")
		})
	}
}
