package report

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/bench/internal/readings"
)

// testdata/main-c3602a2.* come from one invocation of bench/run.sh at
// c3602a2, before this package existed (--rounds 2 --duration 3 --configs
// "none vigil bpftrace" on a busy machine): its results file, the lines it
// printed for the runs, and its summary, which the script's awk printed
// the same but for the undisturbed pairs, added since.
func readTestRuns(t *testing.T) []Run {
	t.Helper()
	f, err := os.Open("testdata/main-c3602a2.tsv")
	require.NoError(t, err)
	defer f.Close()
	runs, err := ReadRuns(f)
	require.NoError(t, err)
	return runs
}

func TestLinesAsBefore(t *testing.T) {
	want, err := os.ReadFile("testdata/main-c3602a2.lines")
	require.NoError(t, err)
	var got strings.Builder
	for _, r := range readTestRuns(t) {
		got.WriteString(Line(r, 2) + "\n")
	}
	require.Equal(t, string(want), got.String())
}

func TestSummaryAsBefore(t *testing.T) {
	want, err := os.ReadFile("testdata/main-c3602a2.summary")
	require.NoError(t, err)
	var got bytes.Buffer
	require.NoError(t, Summarize(readTestRuns(t), []string{"none", "vigil", "bpftrace"}).Write(&got))
	require.Equal(t, string(want), got.String())
}

func TestResultsRoundTrip(t *testing.T) {
	runs := readTestRuns(t)
	require.Len(t, runs, 12)
	var b bytes.Buffer
	require.NoError(t, WriteHeader(&b))
	for _, r := range runs {
		require.NoError(t, WriteRun(&b, r))
	}
	again, err := ReadRuns(&b)
	require.NoError(t, err)
	require.Equal(t, runs, again)

	// Columns are found by name: an older file without some still reads.
	old := "# a comment\nround\tconfig\tstatus\trate\n1\tnone\tok\t383.5\n"
	runs, err = ReadRuns(strings.NewReader(old))
	require.NoError(t, err)
	require.Equal(t, "383.5", runs[0].Rate)
	require.Equal(t, Unknown, runs[0].Ratio)

	_, err = ReadRuns(strings.NewReader("1\tnone\tok\n"))
	require.Error(t, err, "a row before the column names")
}

func TestStat(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []float64
		want   Stat
	}{
		{"none", nil, Stat{}},
		{"odd", []float64{3, 1, 2}, Stat{N: 3, Median: 2, Low: 1, High: 3}},
		{"even: the mean of the middle two", []float64{4, 1, 3, 2}, Stat{N: 4, Median: 2.5, Low: 1, High: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, stat(tc.values))
		})
	}
}

func TestNewRunBaseline(t *testing.T) {
	r := NewRun(Measurement{
		Round: "1", Pair: "1", Config: Baseline, Position: "1", Status: StatusOK,
		Storm:     readings.Storm{Execs: 1152, Seconds: 3.004, Rate: 383.5},
		BusyTicks: 400, StormTicks: 366,
	}, Machine{CPUs: 2, ClockTicks: 100})
	require.Equal(t, Run{
		Round: "1", Pair: "1", Config: Baseline, Position: "1", Status: StatusOK,
		Execs: "1152", Seconds: "3.004", Rate: "383.5",
		// 34 ticks of other work in 3.004 s × 2 cores × 100 ticks.
		OtherCPUPct: "5.7",
		WindowExecs: Unknown, Events: Unknown, ExecEvents: Unknown, Drops: Unknown,
	}, r)
}

func TestNewRunTracer(t *testing.T) {
	m := Measurement{
		Round: "1", Pair: "1", Config: "vigil", Position: "2", Status: StatusOK,
		Storm:     readings.Storm{Execs: 1185, Seconds: 3.005, Rate: 394.4},
		BusyTicks: 420, StormTicks: 410,
		// 1 tick of the busy time was the tracer's: 9 are other work.
		TracerStormNS: readings.Known(10_000_000),
		TracerNS:      readings.Known(13_430_000),
		BPFMeasured:   true,
		BPFBefore:     []readings.ProgStat{{ID: 1, RunTimeNS: 1000, RunCount: 10}, {ID: 2, RunTimeNS: 500, RunCount: 20}},
		// Program 3 appeared in the window: it counts from zero.
		BPFAfter: []readings.ProgStat{
			{ID: 1, RunTimeNS: 1000 + 1192*15000, RunCount: 10 + 1192},
			{ID: 2, RunTimeNS: 500 + 1200*1000, RunCount: 20 + 1200},
			{ID: 3, RunTimeNS: 1200 * 900, RunCount: 1200},
		},
		Events: readings.Known(3616), Drops: readings.Known(0),
	}
	r := NewRun(m, Machine{CPUs: 2, ClockTicks: 100})
	require.Equal(t, "1.5", r.OtherCPUPct)
	require.Equal(t, "13.43", r.CPUms)
	require.Equal(t, "11.33", r.CPUusPerExec)
	require.Equal(t, "0.0113", r.CPUsPer1000Execs)
	require.Equal(t, "3", r.BPFProgs)
	require.Equal(t, "20.160", r.BPFms)
	require.Equal(t, "3592", r.BPFRuns)
	require.Equal(t, "16900", r.BPFnsPerExec, "each program's mean run time, added up")
	require.Equal(t, "1192", r.WindowExecs, "the least-run program's runs")
	require.Equal(t, "11.27", r.CPUusPerWindowExec)
	require.Equal(t, "3616", r.Events)
	require.Equal(t, Unknown, r.ExecEvents)
	require.Equal(t, "0", r.Drops)

	// A tracer that died: no CPU, BPF or other-work figures, its events
	// still.
	m.Status, m.Note = StatusFailed, "tracer died during the storm"
	m.TracerStormNS, m.TracerNS = readings.Count{}, readings.Count{}
	r = NewRun(m, Machine{CPUs: 2, ClockTicks: 100})
	require.Equal(t, StatusFailed, r.Status)
	require.Empty(t, r.OtherCPUPct)
	require.Empty(t, r.CPUusPerExec)
	require.Empty(t, r.BPFnsPerExec)
	require.Equal(t, Unknown, r.WindowExecs)
	require.Equal(t, "3616", r.Events)

	// A tracer that did not start: only who and why.
	r = NewRun(Measurement{Round: "2", Pair: "5", Config: "auditd", Position: "1", Status: StatusUnavailable, Note: "did not start: x"}, Machine{CPUs: 2, ClockTicks: 100})
	require.Equal(t, Run{Round: "2", Pair: "5", Config: "auditd", Position: "1", Status: StatusUnavailable, Note: "did not start: x"}, r)
}

func TestPair(t *testing.T) {
	base := Run{Config: Baseline, Status: StatusOK, Rate: "400.0", OtherCPUPct: "3.0"}
	tracer := Run{Config: "vigil", Status: StatusOK, Rate: "392.0", OtherCPUPct: "10.0"}

	pair := []Run{tracer, base}
	require.False(t, Pair(pair, 10), "10.0 is not over 10")
	require.Equal(t, "400.0", pair[0].BaseRate)
	require.Equal(t, "0.9800", pair[0].Ratio)
	require.Equal(t, "0", pair[0].Disturbed)
	require.Empty(t, pair[1].Ratio, "the baseline has no ratio")
	require.Equal(t, "0", pair[1].Disturbed)

	noisy := base
	noisy.OtherCPUPct = "10.1"
	pair = []Run{noisy, tracer}
	require.True(t, Pair(pair, 10))
	require.Equal(t, "1", pair[0].Disturbed)
	require.Equal(t, "1", pair[1].Disturbed, "the whole pair is disturbed")

	pair = []Run{noisy, tracer}
	require.False(t, Pair(pair, 0), "quiet 0 checks nothing")
	require.Empty(t, pair[0].Disturbed)
	require.Equal(t, "0.9800", pair[1].Ratio)

	// A tracer alone has no ratio; one that did not start has nothing.
	pair = []Run{tracer}
	Pair(pair, 10)
	require.Empty(t, pair[0].Ratio)
	pair = []Run{base, {Config: "bpftrace", Status: StatusUnavailable, Note: "did not start"}}
	Pair(pair, 10)
	require.Equal(t, Run{Config: "bpftrace", Status: StatusUnavailable, Note: "did not start"}, pair[1])

	// A tracer that died still gets its ratio, from the rate the storm made.
	pair = []Run{base, {Config: "vigil", Status: StatusFailed, Rate: "200.0"}}
	Pair(pair, 10)
	require.Equal(t, "0.5000", pair[1].Ratio)
}

// pairOf is a pair as run.sh writes it, the tracer first or second.
func pairOf(round, pair, tracer string, tracerFirst bool, rate, base float64, other float64, cpu, drops string) []Run {
	b := Run{Round: round, Pair: pair, Config: Baseline, Status: StatusOK, Execs: "1000", Rate: fixed(base, 1), OtherCPUPct: fixed(other, 1)}
	tr := Run{Round: round, Pair: pair, Config: tracer, Status: StatusOK, Execs: "1000", Rate: fixed(rate, 1),
		CPUusPerExec: cpu, Drops: drops, Events: "3000", OtherCPUPct: "1.0"}
	runs := []Run{b, tr}
	if tracerFirst {
		runs = []Run{tr, b}
	}
	for i := range runs {
		runs[i].Position = []string{"1", "2"}[i]
	}
	Pair(runs, 10)
	return runs
}

func TestSummarize(t *testing.T) {
	var runs []Run
	runs = append(runs, pairOf("1", "1", "vigil", false, 396, 400, 2, "8.00", "0")...)
	runs = append(runs, pairOf("2", "2", "vigil", true, 380, 400, 2, "12.00", "0")...)
	runs = append(runs, pairOf("3", "3", "vigil", false, 400, 400, 2, "9.00", "0")...)
	// Disturbed: out of the medians, in the totals.
	runs = append(runs, pairOf("4", "4", "vigil", true, 100, 400, 50, "99.00", "7")...)
	s := Summarize(runs, []string{"none", "vigil"})

	vigil := s.Configs[1]
	require.Equal(t, 3, vigil.Runs)
	require.Equal(t, 1, vigil.Disturbed)
	require.Equal(t, Stat{N: 3, Median: 0.99, Low: 0.95, High: 1}, vigil.Ratio)
	require.Equal(t, 9.0, vigil.CPUusPerExec.Median)
	require.Equal(t, Total{Sum: 7, Known: true}, vigil.Drops)
	require.Equal(t, 4000.0, vigil.Execs)
	require.Equal(t, 3, s.Baseline.N)
	require.Len(t, s.Pairs, 3)
	require.Equal(t, &Aims{Ratio: "met", CPU: "met", Drops: "MISSED"}, s.Aims)

	var out bytes.Buffer
	require.NoError(t, s.Write(&out))
	require.Contains(t, out.String(), "vigil        3  0.990  0.950-1.000")
	require.Contains(t, out.String(), "(1 more runs disturbed by other work: in the totals, not the medians)")
	require.Contains(t, out.String(), "2     2    vigil    T,none  380.0  400.0  0.950        12.00            -      0\n")
	require.Contains(t, out.String(), "vigil     median ratio 0.950 when it ran first (1 pair), 0.995 when it ran second (2 pairs)")
	require.Contains(t, out.String(), "vigil against its aims: rate >= 98% of baseline met, CPU < 10 us/exec met, zero drops MISSED")
}

func TestAims(t *testing.T) {
	for _, tc := range []struct {
		name  string
		vigil ConfigSummary
		want  Aims
	}{
		{
			"missed",
			ConfigSummary{Ratio: Stat{N: 1, Median: 0.979}, CPUusPerExec: Stat{N: 1, Median: 10}, Drops: Total{Sum: 1, Known: true}},
			Aims{Ratio: "MISSED", CPU: "MISSED", Drops: "MISSED"},
		},
		{
			"met at the edge",
			ConfigSummary{Ratio: Stat{N: 1, Median: 0.98}, CPUusPerExec: Stat{N: 1, Median: 9.99}, Drops: Total{Known: true}},
			Aims{Ratio: "met", CPU: "met", Drops: "met"},
		},
		{
			"unknown: every pair disturbed, no summary from vigil",
			ConfigSummary{},
			Aims{Ratio: "unknown (no undisturbed pair with a baseline)", CPU: "unknown", Drops: "unknown"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, &tc.want, vigilAims(tc.vigil))
		})
	}
}

func TestSummaryOfUnavailable(t *testing.T) {
	runs := []Run{
		{Round: "1", Pair: "1", Config: Baseline, Position: "1", Status: StatusOK, Execs: "900", Rate: "300.0", Disturbed: "0"},
		{Round: "1", Pair: "1", Config: "vigil", Position: "2", Status: StatusOK, Execs: "880", Rate: "293.3", Ratio: "0.9777", BaseRate: "300.0", Disturbed: "0", Drops: "0"},
		{Round: "1", Pair: "2", Config: "bpftrace", Position: "1", Status: StatusFailed, Execs: "500", Rate: "166.7", Note: "tracer died during the storm"},
		{Round: "2", Pair: "3", Config: "vigil", Position: "1", Status: StatusUnavailable, Note: "did not start: boom"},
		{Round: Unknown, Pair: Unknown, Config: "auditd", Position: Unknown, Status: StatusUnavailable, Note: "audit settings are locked"},
	}
	var out bytes.Buffer
	require.NoError(t, Summarize(runs, []string{"none", "vigil", "bpftrace", "auditd", "none"}).Write(&out))
	require.Equal(t, `config    runs  ratio  range       execs/s   base/s   CPU s/  CPU us/   CPU us/  BPF ns/  events   execs    seen  drops   other
                                                     1k exec     exec  any exec     exec                                  CPU %
none         1  -      -             300.0        -        -        -         -        -       -     900       -      -       -
vigil        1  0.978  0.978-0.978   293.3    300.0        -        -         -        -       -     880       -      0       -
          (then unavailable: did not start: boom)
bpftrace     0  -      -                 -        -        -        -         -        -       -       0       -      -       -
          (1 more runs failed: the tracer died)
auditd    unavailable: audit settings are locked

baseline rate over its 1 undisturbed runs: median 300.0, range 300.0-300.0 execs/s (spread 0.0% of the median)

undisturbed pairs (order T,none: the tracer ran first):
round pair config   order   rate   base   ratio  CPU us/exec  BPF ns/exec  drops
1     1    vigil    none,T  293.3  300.0  0.978            -            -      0
vigil     median ratio - when it ran first (0 pairs), 0.978 when it ran second (1 pair)

vigil against its aims: rate >= 98% of baseline MISSED, CPU < 10 us/exec unknown, zero drops met
`, out.String())

	// Without configs, the order they first ran.
	s := Summarize(runs, nil)
	require.Len(t, s.Configs, 4)
	require.Equal(t, "auditd", s.Configs[3].Config)

	// A never-ran config has no line on the terminal.
	require.Empty(t, Line(runs[4], 2))
	require.Equal(t, "round 2/2  pair 3   vigil    unavailable: did not start: boom", Line(runs[3], 2))
}
