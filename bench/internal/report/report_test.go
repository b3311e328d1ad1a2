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
		got.WriteString(Line(r, 2, 8) + "\n")
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
		RSSPeakKB: Unknown, RSSAnonKB: Unknown, Detections: Unknown,
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
	require.Empty(t, Line(runs[4], 2, 8))
	require.Equal(t, "round 2/2  pair 3   vigil    unavailable: did not start: boom", Line(runs[3], 2, 8))
}

func TestNewRunDetections(t *testing.T) {
	detect := func(seen readings.Count, heldBack, drops int64) Measurement {
		return Measurement{
			Round: "1", Pair: "2", Config: VigilDetects, Position: "1", Status: StatusOK,
			Storm:    readings.Storm{Execs: 1000, Seconds: 3, Rate: 333.3},
			TracerNS: readings.Known(30_000_000),
			Events:   readings.Known(3100), ExecEvents: seen, Detections: readings.Known(seen.N + 7),
			HeldBack: readings.Known(heldBack), Drops: readings.Known(drops),
			RSSPeakKB: readings.Known(39000), RSSAnonKB: readings.Known(22000),
		}
	}
	mach := Machine{CPUs: 2, ClockTicks: 100}

	r := NewRun(detect(readings.Known(900), 0, 0), mach)
	require.Equal(t, StatusOK, r.Status, "90% of the storm's execs detected")
	require.Equal(t, "30.00", r.CPUusPerExec)
	require.Equal(t, []string{"900", "907", "39000", "22000"}, []string{r.ExecEvents, r.Detections, r.RSSPeakKB, r.RSSAnonKB})

	for _, tc := range []struct {
		name     string
		m        Measurement
		wantNote string
	}{
		{"a limit", detect(readings.Known(1), 999, 0), noteHeldBack},
		{"events lost", detect(readings.Known(899), 0, 101), noteLost},
		{"a recipe that does not match", detect(readings.Known(0), 0, 0), noteDoesNotMatch},
		{"no exit summary", detect(readings.Count{}, 0, 0), noteNoSummary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRun(tc.m, mach)
			require.Equal(t, StatusFailed, r.Status)
			require.Equal(t, tc.wantNote, r.Note)
			require.Empty(t, r.CPUusPerExec, "a failed run has no CPU figures")
			require.Equal(t, "39000", r.RSSPeakKB, "its memory is still read")
		})
	}

	// Plain vigil detects nothing of the storm: nothing to check.
	m := detect(readings.Count{}, 0, 0)
	m.Config = Vigil
	require.Equal(t, StatusOK, NewRun(m, mach).Status)
}

func TestLineWithMemory(t *testing.T) {
	r := Run{Round: "1", Pair: "2", Config: VigilDetects, Status: StatusOK, Rate: "333.3", Ratio: "0.9700",
		CPUusPerExec: "30.00", CPUsPer1000Execs: "0.0300", Events: "3100", Execs: "1000", ExecEvents: "1000",
		Drops: "0", OtherCPUPct: "1.0", RSSPeakKB: "39000", RSSAnonKB: "22000"}
	require.Equal(t, "round 1/2  pair 2   vigil-detect  333.3 execs/s  ratio 0.9700  cpu   30.00 us/exec = 0.0300 s/1000 execs (- us/any exec)  bpf     - ns/exec  events  3100 (execs 1000, seen 1000)  drops 0  other 1.0%  rss peak 38.1 MiB, anon 21.5 MiB",
		Line(r, 2, ConfigWidth([]string{"none", VigilDetects})))
}

// memoryOf sets a tracer's memory in its pair.
func memoryOf(pair []Run, peakKB, anonKB string) []Run {
	for i := range pair {
		if pair[i].Config != Baseline {
			pair[i].RSSPeakKB, pair[i].RSSAnonKB = peakKB, anonKB
		}
	}
	return pair
}

func TestSummaryFootprint(t *testing.T) {
	var runs []Run
	runs = append(runs, memoryOf(pairOf("1", "1", Vigil, false, 396, 400, 2, "8.00", "0"), "38000", "20000")...)
	runs = append(runs, memoryOf(pairOf("1", "2", VigilDetects, false, 390, 400, 2, "20.00", "0"), "39000", "22000")...)
	runs = append(runs, memoryOf(pairOf("1", "3", "bpftrace", false, 360, 400, 2, "90.00", "0"), "60000", "8000")...)
	// Disturbed: its memory counts, its CPU does not.
	runs = append(runs, memoryOf(pairOf("2", "4", Vigil, true, 300, 400, 50, "50.00", "0"), "40000", "22000")...)
	runs = append(runs, Run{Round: "2", Pair: "5", Config: VigilDetects, Position: "1", Status: StatusFailed, Execs: "1000", Note: noteHeldBack})
	runs = append(runs, Run{Round: "2", Pair: "6", Config: VigilDetects, Position: "1", Status: StatusFailed, Execs: "1000", Note: noteHeldBack})
	runs = append(runs, Run{Round: "2", Pair: "7", Config: VigilDetects, Position: "1", Status: StatusFailed, Execs: "500", Note: NoteTracerDied})
	s := Summarize(runs, []string{"none", Vigil, VigilDetects, "bpftrace"})

	vigil := s.Configs[1]
	require.Equal(t, Stat{N: 2, Median: 21000, Low: 20000, High: 22000}, vigil.RSSAnonKB)
	require.Equal(t, []Reason{{noteHeldBack, 2}, {"the tracer died", 1}}, s.Configs[2].FailedWhy)
	require.Equal(t, "met", s.Footprint.DetectCPU)
	require.Equal(t, "met", s.Footprint.Memory)

	var out bytes.Buffer
	require.NoError(t, s.Write(&out))
	require.Equal(t, `config        runs  ratio  range       execs/s   base/s   CPU s/  CPU us/   CPU us/  BPF ns/  events   execs    seen  drops   other
                                                         1k exec     exec  any exec     exec                                  CPU %
none             3  -      -             400.0        -        -        -         -        -       -    4000       -      -     2.0
              (1 more runs disturbed by other work: in the totals, not the medians)
vigil            1  0.990  0.990-0.990   396.0    400.0        -     8.00         -        -    6000    2000       -      0     1.0
              (1 more runs disturbed by other work: in the totals, not the medians)
vigil-detect     1  0.975  0.975-0.975   390.0    400.0        -    20.00         -        -    3000    1000       -      0     1.0
              (2 more runs failed: fewer detections than storm execs: a report limit held matches back)
              (1 more runs failed: the tracer died)
bpftrace         1  0.900  0.900-0.900   360.0    400.0        -    90.00         -        -    3000    1000       -      0     1.0

the tracer's resident memory, MiB, median and range over its completed runs (read before it stopped):
config        runs  peak (VmHWM)          anonymous (RssAnon)
vigil            2  38.1 (37.1-39.1)      20.5 (19.5-21.5)
vigil-detect     1  38.1 (38.1-38.1)      21.5 (21.5-21.5)
bpftrace         1  58.6 (58.6-58.6)      7.8 (7.8-7.8)

baseline rate over its 3 undisturbed runs: median 400.0, range 400.0-400.0 execs/s (spread 0.0% of the median)

undisturbed pairs (order T,none: the tracer ran first):
round pair config       order   rate   base   ratio  CPU us/exec  BPF ns/exec  drops
1     1    vigil        none,T  396.0  400.0  0.990         8.00            -      0
1     2    vigil-detect none,T  390.0  400.0  0.975        20.00            -      0
1     3    bpftrace     none,T  360.0  400.0  0.900        90.00            -      0
vigil         median ratio - when it ran first (0 pairs), 0.990 when it ran second (1 pair)
vigil-detect  median ratio - when it ran first (0 pairs), 0.975 when it ran second (1 pair)
bpftrace      median ratio - when it ran first (0 pairs), 0.900 when it ran second (1 pair)

vigil against its aims: rate >= 98% of baseline met, CPU < 10 us/exec met, zero drops met

vigil against its aims of detection CPU and memory:
  detected exec CPU <= bpftrace's line per exec: met (median CPU per storm exec: vigil-detect 20.00 us, bpftrace 90.00 us)
  resident memory <= 40 MiB: met (vigil's median anonymous resident memory, RssAnon, 20.5 MiB; peak resident set, VmHWM, 38.1 MiB)
`, out.String())
}

func TestFootprint(t *testing.T) {
	ran := func(config string, cpu, anonKB float64) ConfigSummary {
		c := ConfigSummary{Config: config, Runs: 1}
		if cpu > 0 {
			c.CPUusPerExec = Stat{N: 1, Median: cpu}
		}
		if anonKB > 0 {
			c.RSSAnonKB = Stat{N: 1, Median: anonKB}
			c.RSSPeakKB = Stat{N: 1, Median: anonKB * 2}
		}
		return c
	}
	for _, tc := range []struct {
		name    string
		configs []ConfigSummary
		want    *Footprint // only the verdicts
	}{
		{"results from before: no memory, no vigil-detect", []ConfigSummary{ran(Vigil, 8, 0), ran(Comparison, 90, 0)}, nil},
		{"no vigil at all", []ConfigSummary{ran(Comparison, 90, 5000)}, nil},
		{"missed", []ConfigSummary{ran(Vigil, 8, 40*1024+1), ran(VigilDetects, 90.01, 0), ran(Comparison, 90, 5000)},
			&Footprint{DetectCPU: "MISSED", Memory: "MISSED"}},
		{"met at the edge", []ConfigSummary{ran(Vigil, 8, 40*1024), ran(VigilDetects, 90, 0), ran(Comparison, 90, 5000)},
			&Footprint{DetectCPU: "met", Memory: "met"}},
		{"no bpftrace", []ConfigSummary{ran(Vigil, 8, 20000), ran(VigilDetects, 20, 21000)},
			&Footprint{DetectCPU: "unknown (no undisturbed bpftrace run with its CPU)", Memory: "met"}},
		{"vigil-detect only", []ConfigSummary{ran(VigilDetects, 20, 21000), ran(Comparison, 90, 5000)},
			&Footprint{DetectCPU: "met", Memory: "unknown (no vigil run with its memory read)"}},
		{"vigil-detect disturbed every time", []ConfigSummary{ran(Vigil, 8, 20000), {Config: VigilDetects, Disturbed: 2}, ran(Comparison, 90, 5000)},
			&Footprint{DetectCPU: "unknown (no undisturbed vigil-detect run with its CPU)", Memory: "met"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := footprint(tc.configs)
			if tc.want == nil {
				require.Nil(t, f)
				return
			}
			require.NotNil(t, f)
			require.Equal(t, *tc.want, Footprint{DetectCPU: f.DetectCPU, Memory: f.Memory})
		})
	}
}
