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
vigil: events 3616, detections 7, processes known 80; lost 2 (ring buffer full 2, filter full 0)
vigil: execs 1185 in 4.1s (289.0/s)
`
	events, lost, err := VigilSummary(strings.NewReader(log))
	require.NoError(t, err)
	require.Equal(t, Known(3616), events, "the last summary counts")
	require.Equal(t, Known(2), lost)

	events, lost, err = VigilSummary(strings.NewReader("panic: oops\n"))
	require.NoError(t, err)
	require.False(t, events.Known)
	require.False(t, lost.Known)
	require.Equal(t, "-", events.String())
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
