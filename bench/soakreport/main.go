// Command soakreport does the arithmetic of bench/soak.sh, which runs vigil
// through a long exec storm with thousands of long-lived processes, and
// prints what its memory and CPU did:
//
//	soakreport -samples CSV -marks FILE -vigil-log FILE -cpus N
//	           [-sleepers N] [-clock-ticks N] [-series CSV]
//
// The samples file is a CSV of vigil's /proc readings, one row a second:
//
//	unix_s,vm_rss_kb,rss_anon_kb,vm_hwm_kb,utime_ticks,stime_ticks
//
// The marks file has a line per moment of the soak, tab-separated: the
// time (seconds since the epoch), its name, vigil's CPU time then in ns
// (bench/cpuclock), the machine's busy time and the CPU time of the
// script's reaped children (the storm) in clock ticks (bench/proctime.sh)
// and, for the end of a chunk of the storm, the storm's result line. The names, in order: ready (vigil watches), sleepers (the
// long-lived processes are about to start), sleepers_up (they run, vigil
// has settled), storm (it starts), chunk (one a chunk), end (vigil has
// settled; it is stopped next), after start (vigil was just started). The
// vigil log is its standard error, with its exit summary and, when it ran
// with GODEBUG=gctrace=1, a line per garbage collection: its live heap
// after each is what says whether its memory stays flat, its resident
// memory being the highest heap of any cycle so far.
//
// With -series, the samples are written again against the time since
// vigil was ready and the storm's execs so far, to plot.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/vigil-otel/vigil/bench/internal/readings"
)

// flatMiBPer100k is the most vigil's live heap may grow per 100,000
// execs, by its slope over the storm's garbage collections, for its memory
// to be called flat: about 20 bytes per exec, twice the resolution of
// gctrace's whole MiB over 100,000 execs.
const flatMiBPer100k = 2.0

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "soakreport:", err)
		os.Exit(1)
	}
}

type options struct {
	samples, marks, vigilLog, series string
	sleepers, clockTicks, cpus       int
}

func run(args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("soakreport", flag.ContinueOnError)
	fs.StringVar(&o.samples, "samples", "", "vigil's /proc readings, a CSV")
	fs.StringVar(&o.marks, "marks", "", "the soak's moments")
	fs.StringVar(&o.vigilLog, "vigil-log", "", "vigil's standard error, with its exit summary")
	fs.StringVar(&o.series, "series", "", "write the samples against time and the storm's execs to this CSV")
	fs.IntVar(&o.sleepers, "sleepers", 0, "the long-lived processes started")
	fs.IntVar(&o.cpus, "cpus", 0, "the machine's online cores")
	fs.IntVar(&o.clockTicks, "clock-ticks", 100, "clock ticks per second of /proc (CLK_TCK)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.samples == "" || o.marks == "" || o.vigilLog == "" || o.cpus <= 0 {
		return errors.New("needs -samples, -marks, -vigil-log and -cpus")
	}
	samples, err := readFile(o.samples, ReadSamples)
	if err != nil {
		return err
	}
	marks, err := readFile(o.marks, ReadMarks)
	if err != nil {
		return err
	}
	exit, err := readFile(o.vigilLog, readings.VigilSummary)
	if err != nil {
		return err
	}
	summary, err := readFile(o.vigilLog, summaryLines)
	if err != nil {
		return err
	}
	gcs, err := readFile(o.vigilLog, readings.GCTrace)
	if err != nil {
		return err
	}
	s, err := NewSoak(samples, marks, gcs)
	if err != nil {
		return err
	}
	if o.series != "" {
		f, err := os.Create(o.series)
		if err != nil {
			return fmt.Errorf("series: %w", err)
		}
		err = s.WriteSeries(f, o.clockTicks)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("series: %w", err)
		}
	}
	return write(stdout, s, o, exit, summary)
}

func readFile[T any](path string, read func(io.Reader) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return read(f)
}

// summaryLines are the lines of vigil's last exit summary.
func summaryLines(r io.Reader) ([]string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("vigil log: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "vigil: events ") {
			out = out[:0]
		}
		if strings.HasPrefix(l, "vigil: ") {
			out = append(out, l)
		}
	}
	return out, nil
}

func write(w io.Writer, s *Soak, o options, exit readings.VigilExit, summary []string) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	mib := func(m Memory) string { return fmt.Sprintf("%6.1f MiB (RssAnon %5.1f)", m.RSS, m.Anon) }
	row := func(label, value string) { p("  %-30s %s\n", label, value) }

	idle, perProc := s.Idle(o.sleepers)
	p("soak: %d storm execs in %d chunks over %.0f s, %d long-lived processes; other work %.1f%% of the machine's CPU during the storm\n",
		s.Execs(), len(s.Chunks()), s.StormSeconds(), o.sleepers, s.OtherCPU(o.cpus, o.clockTicks))
	p("\nresident memory (VmRSS)\n")
	row("at start, watching", mib(s.MemoryBefore(markSleepers)))
	row(fmt.Sprintf("after the %d processes", o.sleepers), mib(s.MemoryBefore(markSleepersUp)))
	peak, hwm := s.Peak()
	row("peak, sampled", fmt.Sprintf("%s; VmHWM %.1f MiB (start-up included)", mib(peak), hwm))
	row("at end", mib(s.MemoryBefore(markEnd)))
	slope := func(half string, from, to float64) {
		if rss, anon, ok := s.Slope(from, to); ok {
			row("slope, "+half, fmt.Sprintf("%+.3f MiB per 10k execs (RssAnon %+.3f)", rss, anon))
		} else {
			row("slope, "+half, "too few samples")
		}
	}
	slope("first half", 0, 0.5)
	slope("second half", 0.5, 1)

	h := s.Heap()
	p("\nGo heap live after each garbage collection (GODEBUG=gctrace=1, whole MiB)\n")
	if h.BeforeOK {
		row("before the storm", fmt.Sprintf("%d MiB (goal %d)", h.Before.HeapLiveMiB, h.Before.HeapGoalMiB))
	}
	if n := len(h.During); n > 0 {
		lo, hi := h.During[0].HeapLiveMiB, h.During[0].HeapLiveMiB
		for _, gc := range h.During {
			lo, hi = min(lo, gc.HeapLiveMiB), max(hi, gc.HeapLiveMiB)
		}
		row("during the storm", fmt.Sprintf("%d collections: first %d MiB, last %d MiB, %d-%d MiB (goal %d MiB at the last)",
			n, h.During[0].HeapLiveMiB, h.During[n-1].HeapLiveMiB, lo, hi, h.During[n-1].HeapGoalMiB))
	} else {
		row("during the storm", "no collection (no gctrace in vigil's log, or too few execs)")
	}
	if h.SlopeOK {
		row("slope over the storm", fmt.Sprintf("%+.3f MiB per 10k execs", h.Slope))
	}

	p("\nCPU (vigil's user + system)\n")
	row("storm", fmt.Sprintf("%.2f us per storm exec (%d execs; the drain after it included)", s.CPUPerExec(), s.Execs()))
	row("watching, before the processes", fmt.Sprintf("%.2f ms per second", idle))
	row(fmt.Sprintf("the %d processes starting", o.sleepers), fmt.Sprintf("%.1f us per process (their settling included)", perProc))
	if exit.Execs.Known {
		p("  execs vigil saw: %d: the storm's %d, the long-lived processes' %d, the rest %d (this script's own and other work's)\n",
			exit.Execs.N, s.Execs(), o.sleepers, exit.Execs.N-s.Execs()-int64(o.sleepers))
	}

	p("\nchunk  execs so far  seconds  execs/s  VmRSS MiB  RssAnon MiB  CPU us/exec\n")
	for i, c := range s.Chunks() {
		p("%5d  %12d  %7.1f  %7.1f  %9.1f  %11.1f  %11.2f\n",
			i+1, c.ExecsSoFar, c.Storm.Seconds, c.Storm.Rate, c.Mem.RSS, c.Mem.Anon, c.CPUUSPerExec)
	}

	p("\nvigil's exit summary:\n")
	for _, l := range summary {
		p("  %s\n", l)
	}
	p("\n")
	switch {
	case !exit.RingFull.Known:
		p("ring buffer drops: unknown (no exit summary)\n")
	case exit.RingFull.N == 0:
		p("ring buffer drops: 0 (lost in all: %s)\n", exit.Lost)
	default:
		p("ring buffer drops: %d (LOST; lost in all: %s)\n", exit.RingFull.N, exit.Lost)
	}
	switch {
	case !h.SlopeOK:
		p("memory: unknown (fewer than 2 garbage collections during the storm)\n")
	case math.Abs(h.Slope)*10 < flatMiBPer100k:
		p("memory: flat (the live heap's slope over the storm is under %.0f MiB per 100k execs)\n", flatMiBPer100k)
	default:
		p("memory: NOT FLAT (the live heap's slope over the storm is %.0f MiB or more per 100k execs)\n", flatMiBPer100k)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
