package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/bench/internal/report"
)

// write writes a file in dir and returns its path.
func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// records joins runs' KEY=VALUE fields as run.sh writes them.
func records(runs ...[]string) string {
	var b strings.Builder
	for _, r := range runs {
		b.WriteString(strings.Join(r, "\t") + "\n")
	}
	return b.String()
}

func readResults(t *testing.T, path string) []report.Run {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	runs, err := report.ReadRuns(f)
	require.NoError(t, err)
	return runs
}

func TestRunsPair(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results.tsv")
	var header bytes.Buffer
	_, err := run([]string{"columns"}, nil, &header)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(out, append([]byte("# comment\n"), header.Bytes()...), 0o644))

	vigilLog := write(t, dir, "vigil.err", "vigil: watching the machine\nvigil: events 3616, detections 7; lost 0 (ring buffer full 0)\n")
	before := write(t, dir, "bpf0", `[{"id":4,"run_time_ns":100,"run_cnt":1},{"id":99,"run_time_ns":5,"run_cnt":5}]`)
	after := write(t, dir, "bpf1", `[{"id":4,"run_time_ns":20100,"run_cnt":1001},{"id":99,"run_time_ns":9,"run_cnt":9}]`)
	in := records(
		[]string{"round=2", "pair=4", "config=vigil", "position=1", "window_start=1700000000.5",
			"storm=execs=1000 seconds=3.000 rate=333.3 jobs=2", "busy_ticks=600", "storm_ticks=570",
			"tracer_storm_ns=100000000", "tracer_ns=12000000", "window_end=1700000004.1",
			"bpf_progs=4", "bpf_before=" + before, "bpf_after=" + after, "vigil_log=" + vigilLog, "status=ok"},
		[]string{"round=2", "pair=4", "config=none", "position=2", "window_start=1700000005",
			"storm=execs=1020 seconds=3.000 rate=340.0 jobs=2", "busy_ticks=590", "storm_ticks=580", "status=ok"},
	)
	var stdout bytes.Buffer
	disturbed, err := run([]string{"runs", "-out", out, "-rounds", "3", "-cpus", "2", "-quiet", "5"}, strings.NewReader(in), &stdout)
	require.NoError(t, err)
	require.False(t, disturbed, "other work: 3.3% and 1.7%, under 5%")

	runs := readResults(t, out)
	require.Len(t, runs, 2)
	vigil := runs[0]
	require.Equal(t, "0.9803", vigil.Ratio)
	require.Equal(t, "340.0", vigil.BaseRate)
	require.Equal(t, "12.00", vigil.CPUusPerExec)
	require.Equal(t, "20", vigil.BPFnsPerExec)
	require.Equal(t, "1000", vigil.WindowExecs)
	require.Equal(t, "3616", vigil.Events)
	require.Equal(t, "0", vigil.Drops)
	require.Equal(t, "3.3", vigil.OtherCPUPct)
	require.Equal(t, "1.7", runs[1].OtherCPUPct)
	require.Equal(t, "0", runs[1].Disturbed)
	require.Equal(t, strings.Join([]string{
		"round 2/3  pair 4   vigil     333.3 execs/s  ratio 0.9803  cpu   12.00 us/exec = 0.0120 s/1000 execs (12.00 us/any exec)  bpf    20 ns/exec  events  3616 (execs 1000, seen -)  drops 0  other 3.3%",
		"round 2/3  pair 4   none      340.0 execs/s  ratio -       cpu       - us/exec = -      s/1000 execs (- us/any exec)  bpf     - ns/exec  events     - (execs 1020, seen -)  drops -  other 1.7%",
		"",
	}, "\n"), stdout.String())

	// The same pair with -quiet 2 is disturbed, and says so.
	stdout.Reset()
	disturbed, err = run([]string{"runs", "-out", out, "-rounds", "3", "-cpus", "2", "-quiet", "2"}, strings.NewReader(in), &stdout)
	require.NoError(t, err)
	require.True(t, disturbed)
	require.Contains(t, stdout.String(), "other 3.3%  [disturbed]\n")
	require.Len(t, readResults(t, out), 4, "rows are appended")
}

func TestRunsTracerOutputs(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results.tsv")
	require.NoError(t, os.WriteFile(out, []byte(strings.Join(report.Columns(), "\t")+"\n"), 0o644))
	prog := "/tmp/w/true"
	bpftraceOut := write(t, dir, "bt.out", "Attaching 1 probe...\n1 /tmp/w/true\n2 /usr/bin/sleep\n")
	bpftraceLog := write(t, dir, "bt.err", "Lost 3 events\n")
	// Someone else's records before the run's part of the log.
	earlier := "type=SYSCALL msg=audit(1.0:1): key=\"vigil-bench\"\n"
	audit := write(t, dir, "audit.log", earlier+
		"type=SYSCALL msg=audit(10.5:2): key=\"vigil-bench\"\ntype=EXECVE msg=audit(10.5:2): argc=1 a0=\"/tmp/w/true\"\n"+
		"type=SYSCALL msg=audit(20.0:3): key=\"vigil-bench\"\ntype=EXECVE msg=audit(20.0:3): argc=1 a0=\"/bin/ls\"\n")
	size, err := os.Stat(audit)
	require.NoError(t, err)
	storm := "storm=execs=100 seconds=1.000 rate=100.0 jobs=1"
	in := records(
		[]string{"round=1", "pair=1", "config=bpftrace", "position=1", storm, "busy_ticks=0", "storm_ticks=0",
			"bpftrace_out=" + bpftraceOut, "bpftrace_log=" + bpftraceLog, "status=ok"},
		[]string{"round=1", "pair=2", "config=auditd", "position=1", storm, "busy_ticks=0", "storm_ticks=0",
			"tracer_storm_ns=0", "tracer_ns=1000000", "window_start=10", "window_end=15",
			"audit_log=" + audit, "audit_from=" + strconv.Itoa(len(earlier)), "audit_to=" + strconv.FormatInt(size.Size(), 10), "drops=4", "status=ok"},
		// The log rotated: nothing counted.
		[]string{"round=1", "pair=3", "config=auditd", "position=1", storm, "busy_ticks=0", "storm_ticks=0",
			"audit_log=" + audit, "audit_from=0", "audit_to=99999", "drops=0", "status=ok"},
		[]string{"round=-", "pair=-", "config=vigil", "position=-", "status=unavailable", "note=go build failed"},
	)
	var stdout bytes.Buffer
	_, err = run([]string{"runs", "-out", out, "-rounds", "1", "-cpus", "1", "-quiet", "0", "-storm-prog", prog}, strings.NewReader(in), &stdout)
	require.NoError(t, err)

	runs := readResults(t, out)
	require.Len(t, runs, 4)
	bt, au, rotated, vigil := runs[0], runs[1], runs[2], runs[3]
	require.Equal(t, []string{"2", "1", "3"}, []string{bt.Events, bt.ExecEvents, bt.Drops})
	require.Equal(t, []string{"2", "1", "1", "4"}, []string{au.Events, au.ExecEvents, au.WindowExecs, au.Drops})
	require.Equal(t, "10.00", au.CPUusPerExec)
	require.Equal(t, "1000.00", au.CPUusPerWindowExec)
	require.Equal(t, []string{"-", "-", "0"}, []string{rotated.Events, rotated.WindowExecs, rotated.Drops})
	require.Equal(t, report.StatusUnavailable, vigil.Status)
	require.Equal(t, "go build failed", vigil.Note)
	require.Equal(t, "-", bt.Disturbed, "-quiet 0")
	require.NotContains(t, stdout.String(), "vigil", "a config that never ran has no line")

	// The summary of that file.
	stdout.Reset()
	_, err = run([]string{"summary", out}, nil, &stdout)
	require.NoError(t, err)
	require.Contains(t, stdout.String(), "vigil     unavailable: go build failed\n")
}

func TestRunsBadRecord(t *testing.T) {
	out := filepath.Join(t.TempDir(), "results.tsv")
	in := records([]string{"round=1", "pair=1", "config=none", "position=1", "storm=storm: a worker failed", "status=ok"})
	_, err := run([]string{"runs", "-out", out, "-cpus", "2"}, strings.NewReader(in), &bytes.Buffer{})
	require.ErrorContains(t, err, "pair 1, none: cannot read the storm's result")
}

func TestRunsVigilDetect(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results.tsv")
	require.NoError(t, os.WriteFile(out, []byte(strings.Join(report.Columns(), "\t")+"\n"), 0o644))
	summary := func(storm int) string {
		return fmt.Sprintf("vigil: watching the machine\n"+
			"vigil: events 3100, detections %d, processes known 80; lost 0 (ring buffer full 0)\n"+
			"vigil: detections by importance: medium 7, low %d; by recipe: bench_storm_exec %d, exec_from_unusual_dir 7\n", storm+7, storm, storm)
	}
	detected := write(t, dir, "detect.err", summary(1000))
	limited := write(t, dir, "limited.err", summary(1)+"vigil: matches held back by report limits: bench_storm_exec 999\n")
	status := write(t, dir, "vigil.status", "Name:\tvigil\nVmHWM:\t   38112 kB\nRssAnon:\t   21480 kB\n")
	detectRun := func(pair, log string) []string {
		return []string{"round=1", "pair=" + pair, "config=vigil-detect", "position=1",
			"storm=execs=1000 seconds=3.000 rate=333.3 jobs=2", "busy_ticks=600", "storm_ticks=570",
			"tracer_storm_ns=10000000", "tracer_ns=30000000", "vigil_log=" + log, "detect_recipe=bench_storm_exec",
			"proc_status=" + status, "status=ok"}
	}
	var stdout bytes.Buffer
	_, err := run([]string{"runs", "-out", out, "-rounds", "1", "-cpus", "2", "-configs", "none vigil-detect"},
		strings.NewReader(records(detectRun("1", detected), detectRun("2", limited))), &stdout)
	require.NoError(t, err)

	runs := readResults(t, out)
	require.Len(t, runs, 2)
	ok, failed := runs[0], runs[1]
	require.Equal(t, report.StatusOK, ok.Status)
	require.Equal(t, []string{"1000", "1007", "30.00", "38112", "21480"},
		[]string{ok.ExecEvents, ok.Detections, ok.CPUusPerExec, ok.RSSPeakKB, ok.RSSAnonKB})
	require.Equal(t, report.StatusFailed, failed.Status)
	require.Equal(t, "fewer detections than storm execs: a report limit held matches back", failed.Note)
	require.Contains(t, stdout.String(), "round 1/1  pair 1   vigil-detect  333.3 execs/s")
	require.Contains(t, stdout.String(), "rss peak 37.2 MiB, anon 21.0 MiB\n")
}
