package readings

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseStorm(t *testing.T) {
	s, err := ParseStorm("execs=1152 seconds=3.004 rate=383.5 jobs=2")
	require.NoError(t, err)
	require.Equal(t, Storm{Execs: 1152, Seconds: 3.004, Rate: 383.5}, s)

	_, err = ParseStorm("storm: a worker failed")
	require.Error(t, err)
}

func TestVigilSummary(t *testing.T) {
	log := `vigil: watching the machine
vigil: events 10, detections 1, processes known 65; lost 0 (ring buffer full 0, filter full 0)
vigil: detections by importance: low 1; by recipe: exec_example 1
vigil: events 3616, detections 1207, processes known 80; lost 2 (ring buffer full 2, filter full 0); process table evictions 0
vigil: execs 1185 in 4.1s (289.0/s)
vigil: detections by importance: medium 7, low 1200; by recipe: bench_storm_exec 1200, exec_from_unusual_dir 7
vigil: matches held back by report limits: exec_from_unusual_dir 3
`
	exit, err := VigilSummary(strings.NewReader(log))
	require.NoError(t, err)
	require.Equal(t, VigilExit{
		Events: Known(3616), Detections: Known(1207), Lost: Known(2), RingFull: Known(2), Execs: Known(1185),
		ByRecipe: map[string]int64{"bench_storm_exec": 1200, "exec_from_unusual_dir": 7},
		HeldBack: map[string]int64{"exec_from_unusual_dir": 3},
	}, exit, "the last summary counts, and only it")

	// No detection: no line by recipe.
	exit, err = VigilSummary(strings.NewReader("vigil: events 3616, detections 0, processes known 80; lost 0 (ring buffer full 0)\n"))
	require.NoError(t, err)
	require.Equal(t, Known(0), exit.Detections)
	require.Equal(t, Known(0), exit.RingFull)
	require.False(t, exit.Execs.Known, "no execs line")
	require.Empty(t, exit.ByRecipe)

	exit, err = VigilSummary(strings.NewReader("panic: oops\n"))
	require.NoError(t, err)
	require.False(t, exit.Events.Known)
	require.False(t, exit.Detections.Known)
	require.False(t, exit.Lost.Known)
	require.Equal(t, "-", exit.Events.String())
}

func TestProcStatus(t *testing.T) {
	status := `Name:	vigil
VmPeak:	 1300000 kB
VmHWM:	   38112 kB
VmRSS:	   35000 kB
RssAnon:	   21480 kB
RssFile:	   13520 kB
Threads:	6
`
	peak, anon, err := ProcStatus(strings.NewReader(status))
	require.NoError(t, err)
	require.Equal(t, Known(38112), peak)
	require.Equal(t, Known(21480), anon)

	// A kernel thread has no memory lines.
	peak, anon, err = ProcStatus(strings.NewReader("Name:\tkauditd\nThreads:\t1\n"))
	require.NoError(t, err)
	require.False(t, peak.Known)
	require.False(t, anon.Known)

	_, _, err = ProcStatus(strings.NewReader("VmHWM:\t12 MB\n"))
	require.Error(t, err)
}

func TestBpftrace(t *testing.T) {
	out := `Attaching 1 probe...
101 /usr/bin/sleep
102 /tmp/vigil-bench.x/true
103 /tmp/vigil-bench.x/true
Lost 5 events
104 /tmp/vigil-bench.x/true
`
	stderr := "WARNING: Could not raise RLIMIT_MEMLOCK\nLost 2 events\nLost 1 events\n"
	events, storm, lost, err := Bpftrace(strings.NewReader(out), strings.NewReader(stderr), "/tmp/vigil-bench.x/true")
	require.NoError(t, err)
	require.EqualValues(t, 4, events)
	require.EqualValues(t, 3, storm)
	require.EqualValues(t, 8, lost)
}

func TestAuditLog(t *testing.T) {
	log := `type=SYSCALL msg=audit(1700000000.100:1): arch=c000003e syscall=59 success=yes key="vigil-bench"
type=EXECVE msg=audit(1700000000.100:1): argc=1 a0="/tmp/w/true"
type=SYSCALL msg=audit(1700000005.000:2): arch=c000003e syscall=59 success=yes key="vigil-bench"
type=EXECVE msg=audit(1700000005.000:2): argc=2 a0="/usr/bin/sleep" a1="0.2"
type=SYSCALL msg=audit(1700000009.500:3): arch=c000003e syscall=59 success=yes key="vigil-bench"
type=EXECVE msg=audit(1700000009.500:3): argc=1 a0="/tmp/w/true"
type=SYSCALL msg=audit(1700000005.000:4): arch=c000003e syscall=59 success=yes key="someone-else"
type=EXECVE msg=audit(1700000005.000:4): argc=1 a0="/bin/ls"
`
	events, storm, window, err := AuditLog(strings.NewReader(log), "vigil-bench", "/tmp/w/true", 1700000000.1, 1700000009)
	require.NoError(t, err)
	require.EqualValues(t, 3, events, "SYSCALL records of the rule")
	require.EqualValues(t, 2, storm, "EXECVE records of the storm's program")
	require.EqualValues(t, 2, window, "SYSCALL records stamped in the window, its edges included")
}

func TestBPFSnapshot(t *testing.T) {
	// bpftool's fields but the three read here left out; a program without
	// statistics (bpf_stats off when it was loaded) has no run_time_ns.
	json := `[{"id":7,"type":"tracing","run_time_ns":5000,"run_cnt":10},
		{"id":9,"type":"kprobe"},
		{"id":12,"type":"tracing","run_time_ns":800,"run_cnt":4}]`
	stats, err := BPFSnapshot(strings.NewReader(json), []int{12, 9})
	require.NoError(t, err)
	require.Equal(t, []ProgStat{{ID: 9}, {ID: 12, RunTimeNS: 800, RunCount: 4}}, stats)

	_, err = BPFSnapshot(strings.NewReader("Error: no BTF"), []int{1})
	require.Error(t, err)
}

func TestGCTrace(t *testing.T) {
	stderr := `time=2026-12-03T12:43:11.721Z level=INFO msg="watching the machine until SIGINT or SIGTERM"
gc 1 @0.014s 2%: 0.012+0.85+0.002 ms clock, 0.012+0.10/0.30/0+0.002 ms cpu, 3->4->2 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 1 P
gc 44 @52.269s 0%: 0.15+28+0.007 ms clock, 0.15+0.12/5.9/21+0.007 ms cpu, 35->35->20 MB, 41 MB goal, 0 MB stacks, 0 MB globals, 1 P
gc 45 @81.408s 0%: 0.98+29+0.006 ms clock, 0.98+0.16/4.2/17+0.006 ms cpu, 35->35->21 MB, 42 MB goal, 0 MB stacks, 0 MB globals, 1 P (forced)
vigil: events 10, detections 1, processes known 65; lost 0 (ring buffer full 0)
`
	gcs, err := GCTrace(strings.NewReader(stderr))
	require.NoError(t, err)
	require.Equal(t, []GC{
		{Seconds: 0.014, HeapLiveMiB: 2, HeapGoalMiB: 4},
		{Seconds: 52.269, HeapLiveMiB: 20, HeapGoalMiB: 41},
		{Seconds: 81.408, HeapLiveMiB: 21, HeapGoalMiB: 42},
	}, gcs)

	gcs, err = GCTrace(strings.NewReader("vigil: events 10\n"))
	require.NoError(t, err)
	require.Empty(t, gcs)
}
