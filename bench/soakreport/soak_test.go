package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/bench/internal/readings"
)

// A soak as bench/soak.sh would note it: vigil started at 98 s, ready at 100 s, 3,000 processes
// from 105 to 120 s, a storm of 4 chunks of 1,000 execs from 125 s, one
// every 10 s, the end at 170 s.
const testMarks = "98.0\tstart\t0\t0\t0\t\n" +
	"100.0\tready\t1000000000\t0\t0\t\n" +
	"105.0\tsleepers\t1050000000\t100\t0\t\n" +
	"120.0\tsleepers_up\t1350000000\t500\t0\t\n" +
	"125.0\tstorm\t1400000000\t1000\t50\t\n" +
	"135.0\tchunk\t1410000000\t2500\t800\texecs=1000 seconds=10.0 rate=100.0 jobs=1\n" +
	"145.0\tchunk\t1420000000\t4000\t1550\texecs=1000 seconds=10.0 rate=100.0 jobs=1\n" +
	"155.0\tchunk\t1430000000\t5500\t2300\texecs=1000 seconds=10.0 rate=100.0 jobs=1\n" +
	"165.0\tchunk\t1440000000\t7000\t3050\texecs=1000 seconds=10.0 rate=100.0 jobs=1\n" +
	"170.0\tend\t1444000000\t7100\t3050\t\n"

// testSamples are a sample a second from 99.5 to 171.5 s, whose VmRSS is
// rss(t) kB and RssAnon 20,000 kB less; CPU 1 tick a second.
func testSamples(rss func(t float64) float64) string {
	var b strings.Builder
	b.WriteString(strings.Join(sampleColumns, ",") + "\n")
	for i := 0; i <= 72; i++ {
		t := 99.5 + float64(i)
		r := int64(rss(t))
		fmt.Fprintf(&b, "%.1f,%d,%d,%d,%d,%d\n", t, r, r-20000, 90000, i/2, i-i/2)
	}
	return b.String()
}

// growing memory: 60,000 kB until the storm's 2,000th exec (145 s), then
// 1.28 kB more per exec (12.5 MiB per 10,000 execs) until its end (165 s),
// where it stays; a peak of 70,000 kB at 110 s.
func growing(t float64) float64 {
	switch {
	case t > 109 && t < 111:
		return 70000
	case t <= 145:
		return 60000
	case t <= 165:
		return 60000 + 1.28*100*(t-145)
	default:
		return 60000 + 1.28*2000
	}
}

func flat(float64) float64 { return 60000 }

// The live heaps of the storm's collections.
var (
	flatHeap    = [4]int{20, 20, 20, 20}
	growingHeap = [4]int{20, 20, 21, 21}
)

// testGCTrace is vigil's standard error with a collection at start-up
// (100 s) and four during the storm, at 138, 148, 158 s (1,300, 2,300 and
// 3,300 execs) and 167 s (after the last chunk), whose live heaps are
// live[0] to live[3] MiB.
func testGCTrace(live [4]int) string {
	var b strings.Builder
	b.WriteString("gc 1 @2.000s 1%: 0.1+1+0 ms clock, 0.1+0/0/0+0 ms cpu, 30->31->17 MB, 40 MB goal, 0 MB stacks, 0 MB globals, 1 P\n")
	for i, at := range []float64{40, 50, 60, 69} {
		fmt.Fprintf(&b, "gc %d @%.3fs 0%%: 0.1+1+0 ms clock, 0.1+0/0/0+0 ms cpu, 35->35->%d MB, %d MB goal, 0 MB stacks, 0 MB globals, 1 P\n",
			i+2, at, live[i], 2*live[i])
	}
	return b.String()
}

func newTestSoak(t *testing.T, rss func(float64) float64, live [4]int) *Soak {
	t.Helper()
	samples, err := ReadSamples(strings.NewReader(testSamples(rss)))
	require.NoError(t, err)
	marks, err := ReadMarks(strings.NewReader(testMarks))
	require.NoError(t, err)
	gcs, err := readings.GCTrace(strings.NewReader(testGCTrace(live)))
	require.NoError(t, err)
	s, err := NewSoak(samples, marks, gcs)
	require.NoError(t, err)
	return s
}

func TestExecsAt(t *testing.T) {
	s := newTestSoak(t, flat, flatHeap)
	for _, c := range []struct{ t, want float64 }{
		{124, -1}, {125, 0}, {130, 500}, {135, 1000}, {150, 2500}, {165, 4000}, {165.5, -1},
	} {
		require.InDelta(t, c.want, s.ExecsAt(c.t), 1e-9, "at %v s", c.t)
	}
}

func TestFigures(t *testing.T) {
	s := newTestSoak(t, growing, growingHeap)
	require.Equal(t, int64(4000), s.Execs())

	rss, anon, ok := s.Slope(0.5, 1)
	require.True(t, ok)
	require.InDelta(t, 12.5, rss, 1e-9, "MiB per 10k execs, second half")
	require.InDelta(t, 12.5, anon, 1e-9)
	rss, _, ok = s.Slope(0, 0.5)
	require.True(t, ok)
	require.InDelta(t, 0, rss, 1e-9, "first half")

	require.Equal(t, Memory{RSS: 60000.0 / 1024, Anon: 40000.0 / 1024}, s.MemoryBefore(markSleepers))
	require.InDelta(t, (60000+2560.0)/1024, s.MemoryBefore(markEnd).RSS, 1e-9)
	peak, hwm := s.Peak()
	require.Equal(t, Memory{RSS: 70000.0 / 1024, Anon: 50000.0 / 1024}, peak)
	require.InDelta(t, 90000.0/1024, hwm, 1e-9)

	require.InDelta(t, 11, s.CPUPerExec(), 1e-9, "44 ms over 4,000 execs")
	idle, perProc := s.Idle(3000)
	require.InDelta(t, 10, idle, 1e-9, "50 ms over 5 s")
	require.InDelta(t, 100, perProc, 1e-9, "300 ms over 3,000 processes")
	require.InDelta(t, 40, s.StormSeconds(), 1e-9)
	// 60 s busy, 30 s the storm's, 0.04 s vigil's, over 2 cpus × 40 s.
	require.InDelta(t, 100*29.96/80, s.OtherCPU(2, 100), 1e-9)

	h := s.Heap()
	require.True(t, h.BeforeOK)
	require.Equal(t, readings.GC{Seconds: 100, HeapLiveMiB: 17, HeapGoalMiB: 40}, h.Before, "start-up's, timed from the start mark")
	require.Len(t, h.During, 4)
	require.True(t, h.SlopeOK)
	// 20, 20, 21, 21 MiB at 1,300, 2,300, 3,300 and 4,000 execs.
	require.InDelta(t, 0.185/0.041675, h.Slope, 1e-9)

	chunks := s.Chunks()
	require.Len(t, chunks, 4)
	require.Equal(t, int64(3000), chunks[2].ExecsSoFar)
	require.InDelta(t, 10, chunks[2].CPUUSPerExec, 1e-9)
	require.InDelta(t, (60000+1216.0)/1024, chunks[2].Mem.RSS, 1e-9, "the sample at 154.5 s")
	require.Equal(t, readings.Storm{Execs: 1000, Seconds: 10, Rate: 100}, chunks[0].Storm)
}

func TestSeries(t *testing.T) {
	s := newTestSoak(t, flat, flatHeap)
	var b strings.Builder
	require.NoError(t, s.WriteSeries(&b, 100))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 74)
	require.Equal(t, "seconds,storm_execs,vm_rss_mib,rss_anon_mib,cpu_s", lines[0])
	require.Equal(t, "-0.5,,58.59,39.06,0.00", lines[1], "before the storm: no execs")
	require.Equal(t, "29.5,450,58.59,39.06,0.30", lines[31], "at 129.5 s")
}

func TestNewSoakRefuses(t *testing.T) {
	samples, err := ReadSamples(strings.NewReader(testSamples(flat)))
	require.NoError(t, err)
	for name, c := range map[string]struct{ drop, want string }{
		"no end":      {"\tend\t", "no end"},
		"no chunk":    {"\tchunk\t", "no exec"},
		"no sleepers": {"\tsleepers\t", "no sleepers"},
	} {
		t.Run(name, func(t *testing.T) {
			var kept []string
			for _, l := range strings.Split(testMarks, "\n") {
				if !strings.Contains(l, c.drop) {
					kept = append(kept, l)
				}
			}
			marks, err := ReadMarks(strings.NewReader(strings.Join(kept, "\n")))
			require.NoError(t, err)
			_, err = NewSoak(samples, marks, nil)
			require.ErrorContains(t, err, c.want)
		})
	}
	_, err = ReadMarks(strings.NewReader("135.0\tchunk\t1\t2\t3\tstorm: failed\n"))
	require.ErrorContains(t, err, "cannot read the storm's result")
	_, err = ReadSamples(strings.NewReader("time,rss\n1,2\n"))
	require.ErrorContains(t, err, "header")
}

func TestRun(t *testing.T) {
	const summary = "vigil: events 13000, detections 4, processes known 3100; lost 0 (ring buffer full 0, filter full 0)\n" +
		"vigil: execs 7100 in 70s (101.4/s)\n"
	for name, c := range map[string]struct {
		rss  func(float64) float64
		live [4]int
		want []string
	}{
		"flat": {flat, flatHeap, []string{
			"memory: flat", "+0.000 MiB per 10k execs (RssAnon +0.000)",
			"4 collections: first 20 MiB, last 20 MiB, 20-20 MiB (goal 40 MiB at the last)",
		}},
		"growing": {growing, growingHeap, []string{
			"memory: NOT FLAT", "+12.500 MiB per 10k execs (RssAnon +12.500)",
			"4 collections: first 20 MiB, last 21 MiB, 20-21 MiB (goal 42 MiB at the last)",
			"slope over the storm           +4.439 MiB per 10k execs",
		}},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(name, text string) string {
				path := filepath.Join(dir, name)
				require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
				return path
			}
			var out strings.Builder
			err := run([]string{
				"-samples", write("samples.csv", testSamples(c.rss)), "-marks", write("marks.tsv", testMarks),
				"-vigil-log", write("vigil.err", "vigil: watching the machine\n"+testGCTrace(c.live)+summary),
				"-sleepers", "3000", "-cpus", "2", "-series", filepath.Join(dir, "series.csv"),
			}, &out)
			require.NoError(t, err)
			for _, w := range append(c.want,
				"soak: 4000 storm execs in 4 chunks over 40 s, 3000 long-lived processes; other work 37.5% of the machine's CPU during the storm",
				"11.00 us per storm exec",
				"execs vigil saw: 7100: the storm's 4000, the long-lived processes' 3000, the rest 100",
				"ring buffer drops: 0 (lost in all: 0)",
				"before the storm               17 MiB (goal 40)",
				"  vigil: execs 7100 in 70s (101.4/s)",
			) {
				require.Contains(t, out.String(), w)
			}
			series, err := os.ReadFile(filepath.Join(dir, "series.csv"))
			require.NoError(t, err)
			require.Len(t, strings.Split(strings.TrimSpace(string(series)), "\n"), 74)
		})
	}
}
